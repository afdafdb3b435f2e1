// The peer's HTTP server: PostGraphile's grafserv handler on /graphql, plus /healthz for
// the benchmark runner (bench/load.py waits for it). `node server.mjs` with PEER_PORT.
import { createServer } from "node:http";
import { postgraphile } from "postgraphile";
import { grafserv } from "postgraphile/grafserv/node";
import preset from "./graphile.config.mjs";

const port = Number(process.env.PEER_PORT ?? 5678);
const pgl = postgraphile(preset);
const serv = pgl.createServ(grafserv);
const handler = serv.createHandler();
await pgl.getSchemaResult(); // build the schema before answering /healthz

const server = createServer((req, res) => {
  handler(req, res, () => {
    if (req.url === "/healthz") {
      res.writeHead(200, { "content-type": "text/plain" });
      res.end("ok");
    } else {
      res.writeHead(404);
      res.end();
    }
  });
});
server.keepAliveTimeout = 65_000;
server.listen(port, "127.0.0.1", () => {
  console.log(`PostGraphile peer on http://127.0.0.1:${port}/graphql`);
});

const stop = async () => {
  server.close();
  await pgl.release();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
