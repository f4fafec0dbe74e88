// Reading RFC 6587 octet-counted frames (also RFC 5425's over TLS) off a receiver's socket.

/** A socket 'data' handler that calls `onMessage` with each whole frame's message. */
export function octetCountedFrames(onMessage: (message: string) => void): (chunk: Buffer) => void {
  let buf = Buffer.alloc(0);
  return (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    for (;;) {
      const space = buf.indexOf(0x20);
      if (space < 0) return;
      const len = Number(buf.subarray(0, space).toString('ascii'));
      if (buf.length < space + 1 + len) return;
      onMessage(buf.subarray(space + 1, space + 1 + len).toString('utf8'));
      buf = buf.subarray(space + 1 + len);
    }
  };
}
