// Doubles ?n= into js.double; anything but a number is an error.
var n = context.getVariable('request.queryparam.n');
if (n === null || isNaN(Number(n))) {
  throw new Error('n is not a number');
}
context.setVariable('js.double', String(Number(n) * 2));
