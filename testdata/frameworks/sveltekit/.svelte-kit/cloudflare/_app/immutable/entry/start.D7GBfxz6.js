import{a as t}from"../chunks/B2mEZFzM.js";export{t as start};
