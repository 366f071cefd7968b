import type { DistinctOptions, DistinctSnapshot } from '../../state/store.js';
import type { Exchange } from '../../types.js';
import { DAY_MS, type DetectorDeps, type DetectorFactory, fieldNames, identityDetector, warmupMs } from './base.js';
import { num, span } from './format.js';
import { memoize } from './memo.js';
import { networkOf, userAgentFamily } from './net.js';
import type { AnomalyRule } from './rules.js';
import { requireParam } from './rules.js';

// "Established identity, never seen with this X before": a bounded set of
// the members (client networks, user-agent families) seen in the last
// `rememberDays`. An identity that fills the set roams and is not judged.

const MEMO_UA_LENGTH = 256;

interface MemberSpec {
  readonly stateTag: string;
  readonly title: string;
  readonly noun: string;
  readonly kind: string;
  member(rule: AnomalyRule): (exchange: Exchange) => string;
}

function newMember(spec: MemberSpec): DetectorFactory {
  return (deps: DetectorDeps) => {
    const { rule } = deps;
    const rememberDays = requireParam(rule, 'rememberDays');
    const maxMembers = requireParam(rule, 'maxMembers');
    const opts: DistinctOptions = { windowMs: rememberDays * DAY_MS, maxMembers };
    const minAge = warmupMs(rule);
    const memberOf = spec.member(rule);
    const field = fieldNames(spec.stateTag);
    return identityDetector<DistinctSnapshot>(deps, {
      observe: (records, kind, exchange, now) => records.distinct(field[kind], memberOf(exchange), now, opts),
      judge(s, subject, exchange, now) {
        if (!s.isNew || s.size >= maxMembers) return undefined;
        const age = now - s.first;
        if (age < minAge || s.count - 1 < rule.warmup.minCount) return undefined;
        const others = s.size - 1;
        return {
          title: spec.title,
          summary: `${subject.label} used from ${spec.noun} ${memberOf(exchange)} for the first time in ${span(Math.min(age, rememberDays * DAY_MS))} of history (${num(s.count - 1)} earlier requests from ${num(others)} other ${spec.noun}${others === 1 ? '' : 's'})`,
          kind: spec.kind,
        };
      },
    });
  };
}

export const newNetwork = newMember({
  stateTag: 'nn',
  title: 'Key used from a new network',
  noun: 'network',
  kind: 'network',
  member: (rule) => {
    const v4 = requireParam(rule, 'ipv4Prefix');
    const v6 = requireParam(rule, 'ipv6Prefix');
    return (ex) => networkOf(ex.identity.clientIp, v4, v6);
  },
});

export const newUserAgent = newMember({
  stateTag: 'ua',
  title: 'Key used by new client software',
  noun: 'user-agent family',
  kind: 'user-agent',
  member: () => {
    const familyOf = memoize(userAgentFamily);
    // Only ordinary user agents are remembered: odd long ones must not fill memory.
    return ({ identity: { userAgent } }) => (userAgent !== undefined && userAgent.length <= MEMO_UA_LENGTH ? familyOf(userAgent) : userAgentFamily(userAgent));
  },
});
