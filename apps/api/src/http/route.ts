// One place that declares a route: its zod contract validates the request and feeds the OpenAPI
// document, so the two cannot drift. Handlers get parsed input and return a reply (or send one).
import type { NextFunction, Request, RequestHandler, Response, Router } from 'express';
import type { z } from 'zod';

import { AppError } from '@ratewire/core';

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
export type Access = 'public' | 'user' | 'admin';

export interface ResponseSpec {
  description: string;
  schema?: z.ZodType;
  contentType?: string;
}

export interface RouteSpec<
  P extends z.ZodType | undefined = z.ZodType | undefined,
  Q extends z.ZodType | undefined = z.ZodType | undefined,
  B extends z.ZodType | undefined = z.ZodType | undefined,
> {
  method: Method;
  /** OpenAPI-style path, `/api/v1/currencies/{id}`. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  auth?: Access;
  params?: P;
  query?: Q;
  body?: B;
  bodyContentTypes?: string[];
  /** Status of a validation failure: 422 (default) or 400 for the compatible routes that answered 400. */
  invalidStatus?: number;
  responses: Record<number, ResponseSpec>;
  hidden?: boolean;
}

type Out<T> = T extends z.ZodType ? z.output<T> : undefined;

export interface Reply {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface RouteInput<P, Q, B> {
  params: Out<P>;
  query: Out<Q>;
  body: Out<B>;
  req: Request;
  res: Response;
}

export type RouteHandler<P, Q, B> = (input: RouteInput<P, Q, B>) => Promise<Reply | void> | Reply | void;

export function fieldErrors(error: z.ZodError, prefix: string) {
  return error.issues.map((issue) => ({
    path: [prefix, ...issue.path.map(String)].filter(Boolean).join('.'),
    message: issue.message,
  }));
}

function parsePart(
  schema: z.ZodType | undefined,
  value: unknown,
  where: string,
  errors: { path: string; message: string }[],
) {
  if (!schema) return undefined;
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  errors.push(...fieldErrors(result.error, where));
  return undefined;
}

export function expressPath(path: string): string {
  return path.replace(/\{([^}]+)\}/g, ':$1');
}

export class RouteRegistry {
  readonly routes: RouteSpec[] = [];

  /** Mounts a route on `router` and records it for the OpenAPI document. */
  add<P extends z.ZodType | undefined, Q extends z.ZodType | undefined, B extends z.ZodType | undefined>(
    router: Router,
    spec: RouteSpec<P, Q, B>,
    handler: RouteHandler<P, Q, B>,
  ): void {
    this.routes.push(spec);
    const access = spec.auth ?? 'public';
    const invalidStatus = spec.invalidStatus ?? 422;
    const run: RequestHandler = (req: Request, res: Response, next: NextFunction) => {
      if (access !== 'public') {
        if (!req.user) {
          next(new AppError(401, 'unauthorized', 'a valid bearer token is required'));
          return;
        }
        if (access === 'admin' && req.user.role !== 'admin') {
          next(new AppError(403, 'forbidden', 'this needs the admin role'));
          return;
        }
      }
      const errors: { path: string; message: string }[] = [];
      const params = parsePart(spec.params, req.params, 'path', errors);
      const query = parsePart(spec.query, req.query, 'query', errors);
      const body = spec.body ? parsePart(spec.body, req.body, 'body', errors) : undefined;
      if (errors.length) {
        next(new AppError(invalidStatus, 'validation_failed', 'the request is not valid', errors));
        return;
      }
      let result: Promise<Reply | void> | Reply | void;
      try {
        result = handler({ params, query, body, req, res } as RouteInput<P, Q, B>);
      } catch (err) {
        next(err);
        return;
      }
      if (result instanceof Promise) result.then((r) => send(res, r), next);
      else send(res, result);
    };
    router[spec.method](expressPath(spec.path), run);
  }
}

function send(res: Response, reply: Reply | void): void {
  if (!reply || res.headersSent) return;
  if (reply.headers) res.set(reply.headers);
  res.status(reply.status ?? 200);
  if (reply.body === undefined) res.end();
  else res.json(reply.body);
}
