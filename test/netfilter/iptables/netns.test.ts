import { afterAll, expect, it } from 'vitest';
import { NetnsLab } from '../../support/netns.js';
import { NETNS_COMMANDS, describeNeeding } from '../../support/needs.js';

describeNeeding({ root: true, commands: [...NETNS_COMMANDS] }, 'netns lab', () => {
  const lab = new NetnsLab('smoke');
  afterAll(() => lab.cleanup());
  it('connects a client to a server over a veth pair, TCP and UDP, and sees a closed port refused', async () => {
    const a = await lab.addNamespace('a');
    const b = await lab.addNamespace('b');
    await lab.addVeth({ ns: a, ifname: 'eth0', address: '10.99.0.1/24' }, { ns: b, ifname: 'eth0', address: '10.99.0.2/24' });
    await lab.startServer(b, 'backend-b', [8080]);
    const r = await lab.probe(a, [
      { ip: '10.99.0.2', port: 8080, protocol: 'tcp' },
      { ip: '10.99.0.2', port: 8080, protocol: 'udp' },
      { ip: '10.99.0.2', port: 8081, protocol: 'tcp' },
    ]);
    const seen = { kind: 'reply', identity: 'backend-b', peer: '10.99.0.1' };
    expect(r).toEqual([[seen], [seen], [{ kind: 'refused' }]]);
  });
});
