import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { inspect } from 'node:util';
import type { Client as SshClient, ClientChannel } from 'ssh2';
import { describe, expect, it, vi } from 'vitest';
import { promptAck } from '../../../src/docker/ssh-prompt-ack.js';
import { resolveDaemonTarget } from '../../../src/docker/connection.js';

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

function fakes() {
  const sock = Object.assign(new EventEmitter(), { destroyed: false, writable: true });
  const channelWindowAdjust = vi.fn();
  const client = { _protocol: { channelWindowAdjust } };
  const channel = (id: number, state = 'open') => Object.assign(new EventEmitter(), { outgoing: { id, state } }) as unknown as ClientChannel;
  const acks = promptAck(sock as unknown as Socket, client as unknown as SshClient);
  return { sock, channelWindowAdjust, channel, acks };
}

describe('ssh transport', () => {
  it('the agent formats in a word: docker-modem inspects every request, agent included', () => {
    const { options } = resolveDaemonTarget('ssh://me@build.example:2222', { HOME: '/nonexistent' });
    expect(inspect(options, { showHidden: true, depth: null })).toContain('agent: Agent(Agent)');
    options.agent?.destroy();
  });

  it('bytes arriving while a channel is open send one empty window adjust per event-loop turn', async () => {
    const { sock, channelWindowAdjust, channel, acks } = fakes();
    acks.track(channel(7, 'closing'));
    acks.track(channel(3));
    sock.emit('data', Buffer.from('a'));
    sock.emit('data', Buffer.from('b'));
    await turn();
    expect(channelWindowAdjust.mock.calls).toEqual([[3, 0]]);
    sock.emit('data', Buffer.from('c'));
    await turn();
    expect(channelWindowAdjust).toHaveBeenCalledTimes(2);
  });

  it('sends nothing with no channel open, after the channel closed, or on a dead socket', async () => {
    const { sock, channelWindowAdjust, channel, acks } = fakes();
    sock.emit('data', Buffer.from('a'));
    await turn();
    const ch = channel(1);
    acks.track(ch);
    (ch as unknown as EventEmitter).emit('close');
    sock.emit('data', Buffer.from('b'));
    await turn();
    acks.track(channel(2));
    sock.emit('data', Buffer.from('c'));
    sock.destroyed = true;
    await turn();
    expect(channelWindowAdjust).not.toHaveBeenCalled();
  });
});
