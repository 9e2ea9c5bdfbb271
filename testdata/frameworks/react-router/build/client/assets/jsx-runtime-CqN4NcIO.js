const j=()=>null;export{j};
