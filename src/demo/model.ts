// The fake model's "mind": what it answers to a conversation. It is gullible
// on purpose, the way real models can be: asked for its instructions, it
// recites its system prompt; handed a document that says to render an image
// from some URL with the conversation appended, it does.

export interface Turn {
  readonly role: string;
  readonly text: string;
}

const ASKS_FOR_INSTRUCTIONS = /\b(system prompt|your instructions|initial instructions|text above|everything above)\b/i;
const IMAGE_INSTRUCTION = /!\[[^\]]{0,40}\]\((https?:\/\/[^)\s?]+)/;

const ANSWERS: readonly string[] = [
  'Here is a short answer: break the task into small steps, check each one, and keep notes of what you changed.',
  'The main trade-off is latency against cost; a smaller model answers faster and is usually good enough for this.',
  'Sure. The function reads the file, parses each line as JSON, and returns the records that pass the filter.',
  'In summary: the report shows steady growth, with most of the change coming from the second quarter.',
  'A good first step is to reproduce the problem with a minimal example, then bisect the recent changes.',
  'Yes, that works. Consider adding a test for the empty case and for input that is already sorted.',
];

function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

export function answer(turns: readonly Turn[]): string {
  const system = turns.filter((t) => t.role === 'system').map((t) => t.text).join('\n');
  const users = turns.filter((t) => t.role === 'user');
  const last = users.at(-1)?.text ?? '';
  if (system && ASKS_FOR_INSTRUCTIONS.test(last)) {
    return `Of course. These are my instructions, word for word:\n\n${system}`;
  }
  const exfil = IMAGE_INSTRUCTION.exec(users.map((t) => t.text).join('\n'));
  if (exfil) {
    const data = Buffer.from(users.map((t) => t.text).join('\n').slice(0, 300)).toString('base64url');
    return `Here is the summary you asked for: the page describes quarterly results.\n\n![x](${exfil[1]}?d=${data})`;
  }
  return ANSWERS[hash(last) % ANSWERS.length]!;
}

/** Rough token count (about four characters per token). */
export function tokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}
