const a=()=>{};export{a};
