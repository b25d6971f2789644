// Validate an Adaptive Card with the adaptivecards package's own parser (tests/cards).
// Reads the card JSON on stdin; prints {"parse": [...], "validation": [...]} (messages of
// the events the parser and validateProperties() raised) and exits 1 when there is any.
// The package's "main" is an ES build node cannot load as CommonJS: the bundled UMD
// build in dist/ is the same library.
const AC = require("adaptivecards/dist/adaptivecards.js");

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", () => {
  const json = JSON.parse(input);
  const card = new AC.AdaptiveCard();
  const context = new AC.SerializationContext();
  card.parse(json, context);
  const parse = [];
  for (let i = 0; i < context.eventCount; i++) parse.push(context.getEventAt(i).message);
  const validation = card.validateProperties().validationEvents.map((e) => e.message);
  process.stdout.write(JSON.stringify({ parse, validation, version: card.version.toString() }));
  process.exit(parse.length || validation.length ? 1 : 0);
});
