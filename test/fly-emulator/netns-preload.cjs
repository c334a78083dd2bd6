// Loaded into every emulated machine's Node process (NODE_OPTIONS=--require). It stands in for the
// machine's own network namespace: on Fly a process that listens on the wildcard address is
// reachable on the machine's own address, and one that listens on 127.0.0.1 is reachable from
// nothing outside the machine. Here every machine shares one host, so a wildcard listen is bound to
// the machine's loopback address (FLY_EMULATOR_MACHINE_ADDR) and 127.0.0.1 stays 127.0.0.1, where
// the proxy and the checks never look. Also the emulator's faults: a slow start (listen delayed)
// and a crash after N ms.
"use strict";
const net = require("node:net");

const addr = process.env.FLY_EMULATOR_MACHINE_ADDR;
const delayMs = Number(process.env.FLY_EMULATOR_LISTEN_DELAY_MS || 0);
const crashAfterMs = Number(process.env.FLY_EMULATOR_CRASH_AFTER_MS || 0);
const wildcard = new Set([undefined, null, "", "0.0.0.0", "::", "[::]"]);

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function patchedListen(...args) {
  // listen(port, host?, backlog?, cb?) or listen({ port, host }, cb?)
  if (addr) {
    if (args[0] !== null && typeof args[0] === "object") {
      if (wildcard.has(args[0].host)) args[0] = { ...args[0], host: addr };
    } else if (typeof args[0] === "number" || typeof args[0] === "string") {
      if (typeof args[1] !== "string" || wildcard.has(args[1])) {
        if (typeof args[1] === "string") args[1] = addr;
        else args.splice(1, 0, addr);
      }
    }
  }
  if (delayMs > 0) {
    setTimeout(() => listen.apply(this, args), delayMs);
    return this;
  }
  return listen.apply(this, args);
};

if (crashAfterMs > 0) setTimeout(() => process.exit(1), crashAfterMs).unref();
