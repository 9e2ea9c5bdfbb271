const e=document.querySelector("#__nuxt");export{e as default};
