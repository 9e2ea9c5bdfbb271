let sharp;
const sharpImageService = {
  async transform(inputBuffer, transformOptions) {
    if (!sharp) {
      try {
        sharp = (await import('sharp')).default;
      } catch {
        throw new Error("MissingSharp");
      }
    }
    return { data: inputBuffer, format: transformOptions.format };
  }
};
export { sharpImageService as default };
