import type { Request } from '@hapi/hapi';

/**
 * A request header as text ('' when absent). hapi types header values loosely, and Node joins
 * most repeated headers but leaves a few as arrays: a repeated one reads as its first value.
 */
export function headerText(request: Request, name: string): string {
  const value: unknown = request.headers[name];
  if (Array.isArray(value)) return typeof value[0] === 'string' ? value[0] : '';
  return typeof value === 'string' ? value : '';
}
