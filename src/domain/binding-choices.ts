import { randomInt } from 'node:crypto';

/**
 * Binding-message confirmation: the device shows the real binding message among decoys of the same
 * shape, and the user picks the one their consumption device shows. A user who approves every prompt
 * without looking ("MFA fatigue") then fails two times in three instead of approving an attacker.
 *
 * Decoys keep the message's shape so the right answer cannot be told apart by its form: when the
 * message holds digits only the digits change (amounts, codes: "Pay 50 EUR" → "Pay 83 EUR"); without
 * digits, every word becomes another word of the same length and case ("Blue Fox" → "Cold Ink"), and
 * upper-case codes other upper-case letters. Spaces and punctuation stay where they are.
 */

export type RandomInt = (maxExclusive: number) => number;

const cryptoRandom: RandomInt = (max) => randomInt(max);

// Short common words, by length, for replacing words; long or unlisted lengths get random letters.
const WORDS: Record<number, string[]> = {
  2: ['at', 'by', 'go', 'in', 'my', 'no', 'on', 'so', 'to', 'up', 'we', 'be', 'do', 'me', 'of', 'or'],
  3: ['sun', 'red', 'fox', 'owl', 'sky', 'tea', 'map', 'ink', 'oak', 'bay', 'jam', 'elm', 'cup', 'key', 'pen', 'box'],
  4: ['blue', 'moon', 'lake', 'rose', 'wolf', 'gold', 'snow', 'leaf', 'fire', 'wind', 'bird', 'corn', 'star', 'rain', 'cold', 'ship'],
  5: ['river', 'apple', 'cloud', 'stone', 'tiger', 'green', 'light', 'maple', 'ocean', 'pearl', 'storm', 'bread', 'plain', 'sugar', 'crane', 'honey'],
  6: ['garden', 'silver', 'forest', 'castle', 'orange', 'button', 'pepper', 'window', 'marble', 'candle', 'rocket', 'meadow', 'falcon', 'harbor', 'copper', 'winter'],
  7: ['morning', 'harvest', 'thunder', 'crystal', 'blanket', 'lantern', 'compass', 'penguin', 'blossom', 'channel', 'journey', 'kitchen', 'machine', 'rainbow', 'sparrow', 'voyager'],
  8: ['mountain', 'sunshine', 'elephant', 'notebook', 'treasure', 'starfish', 'airplane', 'volcanic', 'painting', 'keyboard', 'daylight', 'festival', 'snowball', 'umbrella', 'railroad', 'moonbeam'],
};

const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const UPPER = LOWER.toUpperCase();

function randomFrom(alphabet: string, random: RandomInt): string {
  return alphabet[random(alphabet.length)] ?? alphabet[0]!;
}

function randomDigits(run: string, random: RandomInt): string {
  let digits = '';
  for (let i = 0; i < run.length; i += 1) {
    // A multi-digit number keeps a non-zero first digit, as amounts and codes usually have.
    digits += i === 0 && run.length > 1 && run[0] !== '0' ? String(1 + random(9)) : String(random(10));
  }
  return digits;
}

/** Another word of the same length and case pattern (lower, Capitalised, UPPER). */
function randomWord(run: string, random: RandomInt): string {
  const isUpper = run === run.toUpperCase();
  const isCapitalised = !isUpper && run[0] === run[0]?.toUpperCase();
  const words = WORDS[run.length];
  if (words !== undefined && !(isUpper && run.length > 1)) {
    const word = words[random(words.length)]!;
    return isCapitalised ? word[0]!.toUpperCase() + word.slice(1) : word;
  }
  let letters = '';
  for (const character of run) letters += randomFrom(character === character.toUpperCase() ? UPPER : LOWER, random);
  return letters;
}

/** One decoy: digit runs or letter runs replaced, everything else kept. */
export function decoyOf(message: string, random: RandomInt = cryptoRandom): string {
  const hasDigits = /[0-9]/.test(message);
  if (hasDigits) return message.replace(/[0-9]+/g, (run) => randomDigits(run, random));
  return message.replace(/[A-Za-z]+/g, (run) => randomWord(run, random));
}

/**
 * The binding message and two distinct decoys, in random order; undefined when the message has no
 * digit or letter to vary (then it cannot be confirmed this way).
 */
export function bindingChoicesFor(message: string, random: RandomInt = cryptoRandom, decoys = 2): string[] | undefined {
  if (!/[0-9A-Za-z]/.test(message)) return undefined;
  const choices = new Set([message]);
  for (let tries = 0; choices.size < decoys + 1 && tries < 50; tries += 1) choices.add(decoyOf(message, random));
  if (choices.size < decoys + 1) return undefined;
  const shuffled = [...choices];
  for (let i = shuffled.length - 1; i > 0; i -= 1) {
    const j = random(i + 1);
    [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
  }
  return shuffled;
}
