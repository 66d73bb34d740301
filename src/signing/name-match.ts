/**
 * The seed's name test, evaluated on a binary record instead of by a second
 * Carbon Black search.
 *
 * The seed asks `process_md5:<md5> digsig_prog_name:<name>`. Carbon Black
 * indexes digsig_prog_name as free text: lower-cased words, split on anything
 * that is not a letter or a digit. Signet sends the name as one plain word or
 * as a quoted phrase (see backends/edr/query.ts), and both match when the
 * name's words occur, in order and next to each other, among the program
 * name's words. So "chrome.exe" ([chrome, exe]) does not match "Google Chrome"
 * ([google, chrome]) while "chrome" does, and a name with no word at all
 * ("***", "--") matches nothing.
 */

const NON_WORD = /[^\p{L}\p{N}]+/u;

/** The words Carbon Black indexes for a free-text value. Lower-cased before splitting, as an analyzer does. */
export function textWords(text: string): string[] {
  const words = text.toLowerCase().split(NON_WORD);
  // split leaves an empty string at either end when the text starts or ends with a separator.
  let first = 0;
  let last = words.length;
  while (first < last && words[first] === '') first++;
  while (last > first && words[last - 1] === '') last--;
  return first === 0 && last === words.length ? words : words.slice(first, last);
}

/** Whether `name` matches the signature's program name the way the seed's join would. */
export function nameMatchesProgram(programName: string, name: string): boolean {
  return nameMatchesWords(textWords(programName), name);
}

/** nameMatchesProgram with the program name's words already split (kept per signature by an answer's memo). */
export function nameMatchesWords(programWords: readonly string[], name: string): boolean {
  const wanted = textWords(name);
  const n = wanted.length;
  if (n === 0 || n > programWords.length) return false;
  for (let start = 0; start + n <= programWords.length; start++) {
    let k = 0;
    while (k < n && programWords[start + k] === wanted[k]) k++;
    if (k === n) return true;
  }
  return false;
}
