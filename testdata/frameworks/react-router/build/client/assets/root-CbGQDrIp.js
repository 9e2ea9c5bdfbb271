import{j as e}from"./jsx-runtime-CqN4NcIO.js";export{e as default};
