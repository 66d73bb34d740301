import { describe, expect, it } from 'vitest';
import { carbonBlackEndpoints } from '../../../src/backends/edr/endpoints.js';

const md5 = 'c7f5cae0b450be875eee0e6ddfa771fe';

describe('carbonBlackEndpoints', () => {
  it.each([
    ['https://cb.test', 'https://cb.test/api/v1'],
    ['https://cb.test/', 'https://cb.test/api/v1'],
    ['https://cb.test/edr', 'https://cb.test/edr/api/v1'],
    ['https://cb.test/edr//', 'https://cb.test/edr/api/v1'],
    ['http://cb.test:8080/a/b/', 'http://cb.test:8080/a/b/api/v1'],
  ])('builds every URL under %s', (baseUrl, api) => {
    const endpoints = carbonBlackEndpoints(baseUrl);
    expect(endpoints.processSearch('process_md5:x y:"a b"')).toBe(`${api}/process?q=process_md5%3Ax+y%3A%22a+b%22&rows=1&start=0&sort=`);
    expect(endpoints.binarySummary(md5)).toBe(`${api}/binary/C7F5CAE0B450BE875EEE0E6DDFA771FE/summary`);
    expect(endpoints.binarySearch(`md5:${md5.toUpperCase()} OR md5:${md5.toUpperCase()}`, 2)).toBe(
      `${api}/binary?q=md5%3AC7F5CAE0B450BE875EEE0E6DDFA771FE+OR+md5%3AC7F5CAE0B450BE875EEE0E6DDFA771FE&rows=2&start=0`,
    );
  });

  it('names the host and port, never the path', () => {
    expect(carbonBlackEndpoints('https://cb.test:8443/edr').host).toBe('cb.test:8443');
    expect(carbonBlackEndpoints('https://cb.test/edr').host).toBe('cb.test');
  });

  it.each(['cb.test', 'ftp://cb.test', 'https://u:p@cb.test', 'https://cb.test/?x=1', 'https://cb.test/#x'])('refuses %j', (baseUrl) => {
    expect(() => carbonBlackEndpoints(baseUrl)).toThrow(TypeError);
  });
});
