// The event catalogue (and so /asyncapi.json, and what clients print) says which channels each
// subject reaches and what a frame's data is there; this holds it to what the notifier does.
import { describe, expect, it } from 'vitest';

import { SUBJECT_CATALOGUE, catalogueEntryForChannel, catalogueEntryForEvent } from '@ratewire/contracts/catalogue';

import { BRIDGED_SUBJECTS, framesForNotification, framesForSubject, type FrameSpec } from '../src/frames.ts';

/** The frames one catalogue example becomes. */
function framesOf(entry: (typeof SUBJECT_CATALOGUE)[number], subject: string): FrameSpec[] {
  const text = JSON.stringify(entry.example);
  const mapped = entry.transport === 'redis' ? framesForNotification(text) : framesForSubject(subject, text);
  if (!mapped.ok) throw new Error(`${entry.id}: ${mapped.reason}`);
  return mapped.frames;
}

const bridged = SUBJECT_CATALOGUE.filter((e) => e.channels.length > 0);

describe('the event catalogue against the notifier', () => {
  it('lists every subject the notifier bridges as forwarded, and no other', () => {
    expect(bridged.filter((e) => e.transport === 'nats').map((e) => e.subject)).toEqual(
      expect.arrayContaining([...BRIDGED_SUBJECTS]),
    );
    expect(bridged.filter((e) => e.transport === 'nats')).toHaveLength(BRIDGED_SUBJECTS.length);
  });

  it.each(bridged.map((e) => [e.id, e] as const))(
    "%s: its example becomes frames on the catalogue's channels, each data passing that channel's entry",
    (_id, entry) => {
      const subject = entry.subject.replace('*', entry.token?.values.at(-1) ?? 'done');
      const frames = framesOf(entry, subject);
      expect(frames.length).toBeGreaterThan(0);
      for (const frame of frames) {
        const channel = catalogueEntryForChannel(frame.channel);
        expect(channel, frame.channel).toBeDefined();
        expect(entry.channels).toContain(channel!.channel);
        const event = catalogueEntryForEvent(frame.event, frame.channel);
        expect(event, `${frame.channel} ${frame.event}`).toBeDefined();
        const parsed = event!.schema.safeParse(JSON.parse(JSON.stringify(frame.data)));
        expect(parsed.error?.issues, `${frame.channel} ${frame.event}`).toBeUndefined();
      }
    },
  );

  it("gives each channel's example data to the notifier's frames as the catalogue shows it", () => {
    // the per-symbol channel's data is the symbol's entry of the whole event
    const binance = SUBJECT_CATALOGUE.find((e) => e.id === 'ratesBinanceUpdated')!;
    const frames = framesOf(binance, binance.subject);
    const symbol = catalogueEntryForEvent(binance.subject, 'rates.binance:BTCUSDT')!;
    expect(frames.find((f) => f.channel === 'rates.binance:BTCUSDT')?.data).toEqual(symbol.example);
    // what an outside publisher sends reaches `currencies` as the forwarded example
    const inbound = SUBJECT_CATALOGUE.find((e) => e.id === 'currenciesInbound')!;
    const forwarded = catalogueEntryForEvent(inbound.subject, 'currencies')!;
    expect(framesOf(inbound, inbound.subject)).toEqual([
      { channel: 'currencies', event: inbound.subject, data: forwarded.example },
    ]);
  });
});
