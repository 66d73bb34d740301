import { describe, expect, it } from 'vitest';
import { malformedQueryParameter } from '../../src/routes/query-encoding.js';

describe('malformedQueryParameter', () => {
  it.each(['/v1/signatures/x?name=git', '/v1/signatures/x?name=caf%C3%A9.exe', '/v1/signatures/x?name=a+b%20c', '/x', '/x?name=%25zz'])(
    'accepts %s',
    (url) => expect(malformedQueryParameter(url)).toBeUndefined(),
  );

  it.each([
    ['/x?name=caf%E9.exe', 'name'],
    ['/x?name=%zz', 'name'],
    ['/x?name=a%2', 'name'],
    ['/x?other=1&name=%', 'name'],
    ['/x?na%zzme=git', 'na%zzme'],
  ])('names the parameter of %s', (url, field) => expect(malformedQueryParameter(url)).toBe(field));
});
