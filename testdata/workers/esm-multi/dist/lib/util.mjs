// src/lib/util.ts
function formatGreeting(text) {
  return text.trim().replace(/\s+/g, " ");
}
export {
  formatGreeting
};
