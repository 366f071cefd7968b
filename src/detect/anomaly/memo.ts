// Answers of pure functions that every request asks again (a model's price,
// a user agent's family), kept for a bounded number of distinct arguments.

const MAX_MEMO = 1024;

/** `compute` remembering up to `max` answers; when full it starts over (cheaper than an LRU, and as good for a small working set). */
export function memoize<A, R>(compute: (arg: A) => R, max = MAX_MEMO): (arg: A) => R {
  const memo = new Map<A, R>();
  return (arg) => {
    let answer = memo.get(arg);
    if (answer === undefined) {
      answer = compute(arg);
      if (memo.size >= max) memo.clear();
      memo.set(arg, answer);
    }
    return answer;
  };
}
