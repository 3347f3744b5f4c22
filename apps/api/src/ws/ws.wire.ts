// Server → client frames are unmasked, so a text frame's bytes are the same for every socket:
// framed once per broadcast here and written as they are to each socket (no per-socket header,
// options object or string encoding).
import type { Socket } from 'node:net';

import type { WebSocket } from 'ws';

/** A complete, final, unmasked WebSocket text frame (opcode 1) carrying `payload`. */
export function textFrame(payload: Buffer): Buffer {
  const length = payload.length;
  const headerLength = length < 126 ? 2 : length < 65_536 ? 4 : 10;
  const wire = Buffer.allocUnsafe(headerLength + length);
  wire[0] = 0x81;
  if (headerLength === 2) {
    wire[1] = length;
  } else if (headerLength === 4) {
    wire[1] = 126;
    wire.writeUInt16BE(length, 2);
  } else {
    wire[1] = 127;
    wire.writeBigUInt64BE(BigInt(length), 2);
  }
  payload.copy(wire, headerLength);
  return wire;
}

/**
 * The socket under a server-side WebSocket. Writing a whole frame to it is safe: ws itself writes
 * whole frames synchronously, queues nothing without permessage-deflate (off here), and counts
 * what the socket holds in `bufferedAmount`.
 */
export function rawSocket(ws: WebSocket): Socket | null {
  return (ws as unknown as { _socket: Socket | null })._socket ?? null;
}
