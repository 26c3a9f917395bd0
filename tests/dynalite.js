// dynalite's cli.js (the first argument) with the rest of the arguments, kept serving when a client goes away
// mid-request: dynalite's index.js answers a request's "error" with `throw err`, which ends the whole server and fails
// every later test that uses it (seen when a test kills an import with calls in flight).
const cli = process.argv.splice(2, 1)[0]
process.on('uncaughtException', (err) => {
  if (err.code === 'ECONNRESET') return // that client is gone, and so is its answer; the server is not
  console.error(err)
  process.exit(1)
})
require(cli)
