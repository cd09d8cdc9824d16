/** A person typing chat commands to the gateway (no reply marker, so they are taken as commands). */
import { Element } from 'ltx';
import type { Agent } from '../../core/index.js';
import { until } from '../helpers/wait.js';

export class Chatter {
  readonly lines: string[] = [];
  constructor(
    readonly agent: Agent,
    readonly to: () => string,
  ) {
    agent.conn.on('stanza', (el: Element) => {
      if (el.is('message') && el.attrs.type === 'chat' && el.getChildText('body'))
        this.lines.push(el.getChildText('body')!);
    });
  }

  /** Sends `text` and waits for the first reply after it that matches `expect`. */
  async say(text: string, expect: RegExp): Promise<string> {
    const from = this.lines.length;
    const m = new Element('message', { to: this.to(), type: 'chat' });
    m.c('body').t(text);
    await this.agent.conn.send(m);
    return until(`a reply to '${text}' matching ${expect}`, () => this.lines.slice(from).find((l) => expect.test(l)));
  }
}
