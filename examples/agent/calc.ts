// A complete agent: answers a typed request and a chat command. Run it with
// CALC_SERVER=127.0.0.1:15222 CALC_PASSWORD=… CALC_CA=var/ejabberd/conf/server.crt node dist/examples/agent/calc.js
import { readFileSync } from 'node:fs';
import { Agent, createLogger } from '../../core/index.js';
import { defineRequest, object, int } from '../../protocols/index.js';

const Add = defineRequest('urn:example:calc:1', 'add', {
  request: object({ a: int(), b: int() }),
  response: object({ sum: int() }),
});

const env = process.env;
const agent = new Agent({
  kind: 'calc',
  log: createLogger({ level: env.CALC_LOG ?? 'info' }),
  xmpp: {
    service: `xmpp://${env.CALC_SERVER ?? '127.0.0.1:15222'}`,
    domain: env.CALC_DOMAIN ?? 'localhost',
    username: 'calc',
    password: env.CALC_PASSWORD ?? '',
    ca: env.CALC_CA && readFileSync(env.CALC_CA, 'utf8'),
  },
});
agent.handle(Add, ({ a, b }) => ({ sum: a + b }));
agent.chat.add({
  name: 'add',
  usage: 'add <a> <b>',
  summary: 'add two numbers',
  allow: () => true,
  run: ({ positional: [a, b] }) => String(Number(a) + Number(b)),
});
await agent.start();
process.on('SIGINT', () => void agent.stop().then(() => process.exit(0)));
