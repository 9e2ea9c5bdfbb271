export const buildId = "hidden-file-must-not-be-uploaded";
