/**
 * A named kind of event and the type of its data, made once and imported by publisher and
 * subscriber alike, so both agree on the shape:
 *
 *     export const priceChanged = defineTopic<{ symbol: string; price: string }>('crypto.price');
 *     await this.events.publish(priceChanged, { symbol: 'BTC', price: '64000' });
 *     for await (const p of this.events.subscribe(priceChanged, ctx.signal)) ...
 *
 * Data crosses processes as JSON: plain objects, arrays, strings, numbers, booleans and null
 * (a bigint or a Date does not survive the trip as itself: send it as a string).
 */
export interface Topic<T> {
  readonly name: string;
  /** Never set: carries T for the compiler. */
  readonly __data?: T;
}

/** The data type a topic carries. */
export type TopicData<P> = P extends Topic<infer T> ? T : never;

const NAME = /^[A-Za-z][\w.-]{0,99}$/;

/** A topic: `name` is what travels ("app.thing", letters, digits, dots, dashes, underscores). */
export function defineTopic<T>(name: string): Topic<T> {
  if (!NAME.test(name)) throw new TypeError(`defineTopic: "${name}" is not a topic name (letters, digits, ".", "-", "_"; at most 100)`);
  return Object.freeze({ name });
}
