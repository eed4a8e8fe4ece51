import type { FastifyBaseLogger } from 'fastify';
import type { Bindings, ChildLoggerOptions, Level, Logger } from 'pino';

type LogFn = (...args: unknown[]) => void;

/**
 * A request's logger. Fastify gives every request a pino child carrying its id, and the auth hook adds the caller
 * (tenant, user, actor): two objects built and their bindings serialized per request, whether or not the request
 * ever writes a line. This logger holds the bindings and becomes that child only when a line is written at a level
 * the root logger has enabled. At the default `info`, Fastify's "request completed" line makes every request
 * write, so the child is made as before; at `warn` (high-traffic deployments), a request that logs nothing builds
 * nothing. Output is identical either way (test/operations.test.ts, test/request-logger.test.ts).
 */
export class RequestLogger {
  private readonly parent: Logger;
  private readonly pending: Bindings;
  private real: Logger | null = null;

  constructor(parent: Logger, bindings: Bindings) {
    this.parent = parent;
    this.pending = bindings;
  }

  /** Fastify's `childLoggerFactory`: lazy unless the route asks for its own level or serializers. */
  static factory(logger: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions): FastifyBaseLogger {
    const parent = logger as unknown as Logger;
    if (options.level !== undefined || options.serializers !== undefined) {
      return parent.child(bindings, options) as unknown as FastifyBaseLogger;
    }
    return new RequestLogger(parent, bindings) as unknown as FastifyBaseLogger;
  }

  get level(): string {
    return (this.real ?? this.parent).level;
  }

  set level(level: string) {
    this.logger().level = level;
  }

  fatal(...args: unknown[]) {
    this.write('fatal', args);
  }
  error(...args: unknown[]) {
    this.write('error', args);
  }
  warn(...args: unknown[]) {
    this.write('warn', args);
  }
  info(...args: unknown[]) {
    this.write('info', args);
  }
  debug(...args: unknown[]) {
    this.write('debug', args);
  }
  trace(...args: unknown[]) {
    this.write('trace', args);
  }
  silent() {}

  isLevelEnabled(level: Level): boolean {
    return (this.real ?? this.parent).isLevelEnabled(level);
  }

  child(bindings: Bindings, options?: ChildLoggerOptions): Logger {
    return this.logger().child(bindings, options);
  }

  bindings(): Bindings {
    return this.real ? this.real.bindings() : { ...this.parent.bindings(), ...this.pending };
  }

  /** Adds bindings (the auth hook's caller); merged into the child when there is one, kept until then. */
  setBindings(bindings: Bindings) {
    if (this.real) this.real.setBindings(bindings);
    else Object.assign(this.pending, bindings);
  }

  private write(level: Level, args: unknown[]) {
    if (!(this.real ?? this.parent).isLevelEnabled(level)) return;
    (this.logger()[level] as LogFn)(...args);
  }

  private logger(): Logger {
    this.real ??= this.parent.child(this.pending);
    return this.real;
  }
}
