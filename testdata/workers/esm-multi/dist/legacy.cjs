"use strict";
// Legacy helper kept as CommonJS.
function describe(a, b, sum) {
  return a + " + " + b + " = " + sum;
}
module.exports = { describe };
