const page = () => import('../chunks/sharp_Dng4Gpec.mjs');
export { page };
