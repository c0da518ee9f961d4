// Browser and operating system from the User-Agent header, for support ("which browser did the
// guest use?"). Deliberately coarse — family and major version — and stored instead of the raw
// header, which carries more detail than support needs.

export interface Platform {
  browser: string;
  os: string;
}

// Order matters: Edge, Opera and Samsung Internet also say "Chrome", and Chrome also says "Safari".
const browsers: [RegExp, string][] = [
  [/Edg(?:e|A|iOS)?\/(\d+)/, 'Edge'],
  [/OPR\/(\d+)/, 'Opera'],
  [/SamsungBrowser\/(\d+)/, 'Samsung Internet'],
  [/Firefox\/(\d+)/, 'Firefox'],
  [/FxiOS\/(\d+)/, 'Firefox'],
  [/CriOS\/(\d+)/, 'Chrome'],
  [/(?:HeadlessChrome|Chrome|Chromium)\/(\d+)/, 'Chrome'],
  [/Version\/(\d+)[.\d]* (?:Mobile\/\S+ )?Safari\//, 'Safari'],
];

const systems: [RegExp, (m: RegExpExecArray) => string][] = [
  [/(?:iPhone|iPad|iPod).*? OS (\d+)/, (m) => `iOS ${m[1]}`],
  [/Android (\d+)/, (m) => `Android ${m[1]}`],
  [/Windows NT 10\.0/, () => 'Windows 10/11'],
  [/Windows NT (\d+\.\d+)/, (m) => `Windows NT ${m[1]}`],
  [/CrOS/, () => 'ChromeOS'],
  [/Mac OS X (\d+)[._](\d+)/, (m) => `macOS ${m[1]}.${m[2]}`],
  [/Macintosh/, () => 'macOS'],
  [/Linux/, () => 'Linux'],
];

export function describeUserAgent(userAgent: string | undefined): Platform {
  const ua = (userAgent ?? '').slice(0, 1024);
  let browser = 'unknown';
  for (const [pattern, name] of browsers) {
    const m = pattern.exec(ua);
    if (m) {
      browser = `${name} ${m[1]}`;
      break;
    }
  }
  let os = 'unknown';
  for (const [pattern, name] of systems) {
    const m = pattern.exec(ua);
    if (m) {
      os = name(m);
      break;
    }
  }
  return { browser, os };
}
