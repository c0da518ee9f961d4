// One source of truth for what a route reads: the joi schemas in its `validate` are checked against
// a TypeScript type (`objectOf<T>`: T's keys exactly, each schema producing T's type of that key),
// and `route()` gives the handler's request.params, .query and .payload the types of those schemas.
// hapi validates before the handler runs, so a handler never casts `request.payload as …`.
import type {
  HandlerDecorations,
  Lifecycle,
  ReqRefDefaults,
  Request,
  ResponseToolkit,
  RouteOptions,
  RouteOptionsValidate,
  ServerRoute,
} from '@hapi/hapi';
import Joi from 'joi';

/**
 * Each of T's keys with a schema whose validated value has T's type for that key. Joi itself does
 * not track `.required()`: a key T requires must be `.required()` (or have a `.default()`).
 */
export type Keys<T> = { [K in keyof T]-?: Joi.AnySchema<T[K]> & Kind<T[K]> };

// A bare factory call (`Joi.number()`) takes its value type from where it stands, so the kind of
// schema is checked too: a string key needs a string schema, a number a number schema.
type Kind<V> = [V] extends [string | null | undefined]
  ? Joi.StringSchema<any>
  : [V] extends [number | null | undefined]
    ? Joi.NumberSchema<any>
    : [V] extends [boolean | null | undefined]
      ? Joi.BooleanSchema<any>
      : unknown;

/** A string without a NUL character: PostgreSQL text cannot hold one (its insert would fail, a 500). */
export const withoutNul = <S extends Joi.StringSchema<any>>(schema: S): S =>
  schema.pattern(/^[^\u0000]*$/, 'text without a NUL character');

/** A joi object schema for T: the compiler holds the keys and their value types to T. */
export const objectOf = <T>(keys: Keys<T>): Joi.ObjectSchema<T> => Joi.object<T>(keys);

type IsAny<T> = 0 extends 1 & T ? true : false;

/** What a schema lets through; an untyped schema (`any`) gives `unknown`, so a handler cannot trust it. */
export type Validated<S, Otherwise = unknown> =
  S extends Joi.AnySchema<infer T> ? (IsAny<T> extends true ? unknown : T) : Otherwise;

/** Path parameters hapi guarantees when a route has no params schema: `{id}` is a string, `{id?}` may be absent. */
type PathParams<Path extends string> = Path extends `${string}{${infer Name}}${infer Rest}`
  ? ParamOf<Name> & PathParams<Rest>
  : unknown;
type ParamOf<Name extends string> = Name extends `${infer Key}?`
  ? { [K in Key]?: string }
  : Name extends `${infer Key}*${string}`
    ? { [K in Key]?: string }
    : { [K in Name]: string };

type Schemas = Pick<RouteOptionsValidate, 'params' | 'query' | 'payload'>;

/**
 * The request a route's handler gets: hapi's request with params, query and payload typed by the
 * route's schemas. Params and query are narrowed and the payload replaced, so the request still passes wherever a
 * plain `Request` is taken.
 */
export type TypedRequest<Path extends string, V extends Schemas> = Omit<Request, 'payload'> & {
  readonly params: Validated<V['params'], PathParams<Path>>;
  readonly query: Validated<V['query'], ReqRefDefaults['Query']>;
  readonly payload: Validated<V['payload'], ReqRefDefaults['Payload']>;
};

type Handler<Path extends string, V extends Schemas> = (
  request: TypedRequest<Path, V>,
  h: ResponseToolkit,
  err?: Error,
) => Lifecycle.ReturnValue;

export interface TypedRoute<Path extends string, V extends RouteOptionsValidate> extends Omit<
  ServerRoute,
  'path' | 'handler' | 'options'
> {
  path: Path;
  handler?: Handler<Path, V> | HandlerDecorations;
  options?: Omit<RouteOptions, 'validate' | 'handler'> & {
    validate?: V & RouteOptionsValidate;
    handler?: Handler<Path, V>;
  };
}

/** A route whose handler reads params, query and payload typed by its `validate` schemas. */
export function route<Path extends string, V extends RouteOptionsValidate = object>(
  typed: TypedRoute<Path, V>,
): ServerRoute {
  // The one place the types meet hapi's route table: hapi runs `validate` before the handler, so
  // the handler sees exactly what the schemas let through.
  return typed as ServerRoute;
}

/** A field of a request part no schema typed (a page drawn for several routes): unknown until checked. */
export function fieldOf(part: unknown, key: string): unknown {
  return typeof part === 'object' && part !== null && Object.hasOwn(part, key)
    ? (part as Record<string, unknown>)[key]
    : undefined;
}
