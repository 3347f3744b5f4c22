// The private NATS cluster: three JetStream nodes that elect a meta leader, keep a stream of three
// replicas through the loss of its leader, and take a killed node back on the same port and store.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createLogger, createNats, type NatsConnection } from '@ratewire/runtime';
import { StorageType, type JetStreamManager } from 'nats';

import { startPrivateNatsCluster, type PrivateNatsCluster } from './private-servers.ts';
import { waitFor } from './wait.ts';

let cluster: PrivateNatsCluster;
let nc: NatsConnection;
let jsm: JetStreamManager;

beforeAll(async () => {
  cluster = await startPrivateNatsCluster({ nodes: 3 });
  nc = await createNats(cluster.urls, createLogger('nats-cluster-test', 'silent'), 'nats-cluster-test');
  jsm = await nc.jetstreamManager();
});

afterAll(async () => {
  await nc?.drain().catch(() => {});
  await cluster?.close();
});

describe('startPrivateNatsCluster', () => {
  it('starts three named nodes on their own ports, with one NATS_URL naming them all', async () => {
    expect(cluster.nodes.map((n) => n.name)).toEqual(['n1', 'n2', 'n3']);
    expect(new Set(cluster.nodes.map((n) => n.port)).size).toBe(3);
    expect(cluster.url.split(',')).toEqual(cluster.nodes.map((n) => n.url));
    const info = (await (await fetch(`${cluster.nodes[0]!.monitorUrl}/jsz`)).json()) as {
      meta_cluster: { cluster_size: number; leader: string };
    };
    expect(info.meta_cluster.cluster_size).toBe(3);
    expect(cluster.nodes.map((n) => n.name)).toContain(info.meta_cluster.leader);
  });

  it('keeps a stream of three replicas writable when its leader is killed, and takes the node back', async () => {
    await jsm.streams.add({
      name: 'CLUSTER_CHECK',
      subjects: ['cluster.check'],
      num_replicas: 3,
      storage: StorageType.File,
    });
    const js = nc.jetstream();
    await js.publish('cluster.check', new TextEncoder().encode('before'));
    const before = await jsm.streams.info('CLUSTER_CHECK');
    expect(before.cluster?.replicas).toHaveLength(2);
    const leader = cluster.node(before.cluster!.leader!);

    await leader.stop();
    expect(leader.running).toBe(false);
    // a new leader among the two left, and the stream takes writes again
    await waitFor(
      async () => {
        const info = await jsm.streams.info('CLUSTER_CHECK');
        return info.cluster?.leader && info.cluster.leader !== leader.name;
      },
      { timeoutMs: 20_000, what: 'a new stream leader' },
    );
    await waitFor(() => js.publish('cluster.check', new TextEncoder().encode('during')).then(() => true), {
      timeoutMs: 20_000,
      what: 'a publish acknowledged without the old leader',
    });

    await leader.start();
    await cluster.ready();
    expect(leader.running).toBe(true);
    await waitFor(
      async () => {
        const info = await jsm.streams.info('CLUSTER_CHECK');
        return info.cluster?.replicas?.every((r) => r.current) && info.state.messages >= 2;
      },
      { timeoutMs: 20_000, what: 'every replica current again' },
    );
  }, 90_000);
});
