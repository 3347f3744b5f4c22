// A notification as the shell prints it: `HH:MM:SS  event  summary`, one line (the summary names
// the job or alert; the channel is the user's own, so it says nothing more).
import { summariseEvent } from '@ratewire/contracts/catalogue';
import type { WsEventFrame } from '@ratewire/contracts/ws.schemas';

import { printable } from '../output/table.ts';

const clock = (iso: string) => {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '--:--:--' : d.toISOString().slice(11, 19);
};

export function noticeLine(frame: WsEventFrame): string {
  const summary = summariseEvent(frame.event, frame.data, frame.channel);
  return printable(`${clock(frame.ts)}  ${frame.event}  ${summary}`);
}
