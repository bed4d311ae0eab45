// An MCP server built with the TypeScript SDK (@modelcontextprotocol/sdk),
// for the gateway's end-to-end tests: streamable HTTP on 127.0.0.1 at /mcp,
// with no auth of its own. It trusts the gateway's identity headers.
//
// Tools: whoami returns the identity headers it received; slow sends a
// progress notification, then waits until POST /release before it returns,
// so the test can tell that the progress arrived while the tool still ran.
// It prints "listening PORT" once it accepts connections.
import http from "node:http";
import { randomUUID } from "node:crypto";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { isInitializeRequest } from "@modelcontextprotocol/sdk/types.js";

let releaseWaiters = [];
let released = 0;
function waitRelease() {
  if (released > 0) {
    released--;
    return Promise.resolve();
  }
  return new Promise((resolve) => releaseWaiters.push(resolve));
}
function release() {
  const w = releaseWaiters.shift();
  if (w) w();
  else released++;
}

function header(headers, name) {
  const v = headers?.[name];
  return Array.isArray(v) ? v.join(",") : (v ?? "");
}

function newServer() {
  const server = new McpServer({ name: "e2e-ts-server", version: "1.0.0" });
  server.registerTool("whoami", { description: "the caller, from the gateway's headers" }, async (extra) => {
    const h = extra.requestInfo?.headers ?? {};
    const who = {
      subject: header(h, "x-forwarded-user"),
      email: header(h, "x-forwarded-email"),
      client_id: header(h, "x-forwarded-client-id"),
      scopes: header(h, "x-forwarded-scopes"),
      authorization: header(h, "authorization"),
    };
    return { content: [{ type: "text", text: JSON.stringify(who) }] };
  });
  server.registerTool("slow", { description: "progress, then wait for /release" }, async (extra) => {
    const token = extra._meta?.progressToken;
    if (token !== undefined) {
      await extra.sendNotification({ method: "notifications/progress", params: { progressToken: token, progress: 1, total: 2, message: "halfway" } });
    }
    await waitRelease();
    return { content: [{ type: "text", text: "done" }] };
  });
  return server;
}

const transports = new Map();

async function readJSON(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const text = Buffer.concat(chunks).toString("utf8");
  return text ? JSON.parse(text) : undefined;
}

const httpServer = http.createServer(async (req, res) => {
  try {
    if (req.url === "/release" && req.method === "POST") {
      release();
      res.writeHead(204).end();
      return;
    }
    if (!req.url.startsWith("/mcp")) {
      res.writeHead(404).end();
      return;
    }
    const sid = req.headers["mcp-session-id"];
    const body = req.method === "POST" ? await readJSON(req) : undefined;
    let transport = sid ? transports.get(sid) : undefined;
    if (!transport) {
      if (sid || req.method !== "POST" || !isInitializeRequest(body)) {
        res.writeHead(sid ? 404 : 400, { "content-type": "application/json" });
        res.end(JSON.stringify({ jsonrpc: "2.0", id: null, error: { code: -32000, message: "no such session" } }));
        return;
      }
      transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => transports.set(id, transport),
      });
      transport.onclose = () => transport.sessionId && transports.delete(transport.sessionId);
      await newServer().connect(transport);
    }
    await transport.handleRequest(req, res, body);
  } catch (err) {
    console.error(err);
    if (!res.headersSent) res.writeHead(500).end();
  }
});

httpServer.listen(0, "127.0.0.1", () => {
  console.log(`listening ${httpServer.address().port}`);
});

process.on("SIGTERM", () => {
  for (const t of transports.values()) t.close();
  httpServer.close(() => process.exit(0));
  httpServer.closeAllConnections();
});
