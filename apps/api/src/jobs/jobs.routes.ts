// Exchange jobs over REST, plus POST /api/exchange_async, compatible with the async exchange service.
import type { Router } from 'express';

import {
  exchangeJobAccepted,
  exchangeJobBody,
  exchangeJobCompatAccepted,
  exchangeJobList,
  exchangeJobView,
  jobIdParams,
  paginationQuery,
} from '@ratewire/contracts';

import { AppError } from '../http/app-error.ts';
import { problem } from '../http/responses.ts';
import type { RouteRegistry } from '../http/route.ts';
import { itemsTable } from '../http/tabular.ts';
import type { JobsService } from './jobs.service.ts';

export function jobsRoutes(router: Router, routes: RouteRegistry, service: JobsService): void {
  routes.add(
    router,
    {
      method: 'post',
      path: '/api/v1/exchange-jobs',
      operationId: 'submitExchangeJob',
      summary: 'Submit an exchange job (processed asynchronously, result sent to the callback)',
      description:
        'The job is stored before the reply. The same `request_id` with the same body answers 200 with the same job; ' +
        'with another body, 409. Without `exchange_rate`, the latest CBR rate of `currency` is used and recorded. ' +
        'The result is PUT to `callback_url`, without `token` and signed with your webhook secret ' +
        "(`GET /api/v1/webhooks/secret`); a job without `callback_url` reports to the deployment's own " +
        'EXCHANGE_CALLBACK_URL, when one is configured.',
      tags: ['exchange jobs'],
      auth: 'user',
      keyScope: 'jobs',
      body: exchangeJobBody,
      responses: {
        202: { description: 'Accepted', schema: exchangeJobAccepted },
        200: { description: 'The job an identical earlier request created', schema: exchangeJobAccepted },
        401: problem('No or bad bearer token'),
        409: problem('request_id already used with another body'),
        422: problem('Invalid body'),
      },
    },
    async ({ body, req }) => {
      const accepted = await service.submit(req.user!, body);
      return {
        status: accepted.created ? 202 : 200,
        body: { job_id: accepted.jobId, status: accepted.status },
        headers: { location: `/api/v1/exchange-jobs/${accepted.jobId}` },
      };
    },
  );

  routes.add(
    router,
    {
      method: 'get',
      path: '/api/v1/exchange-jobs',
      operationId: 'listExchangeJobs',
      summary: "The caller's exchange jobs, newest first",
      tags: ['exchange jobs'],
      auth: 'user',
      keyScope: 'jobs',
      query: paginationQuery,
      description:
        'CSV or NDJSON (Accept or `?format=`) give the page’s jobs as rows of their flat fields (the breakdown and ' +
        'the callback state are in the JSON answer and in GET /exchange-jobs/{id}).',
      table: itemsTable('exchange-jobs', [
        'job_id',
        'request_id',
        'status',
        'currency',
        'rate',
        'total_rub',
        'error',
        'created_at',
        'started_at',
        'completed_at',
      ]),
      responses: { 200: { description: 'A page of jobs', schema: exchangeJobList }, 401: problem('No token') },
    },
    async ({ query, req }) => ({ body: await service.list(req.user!, query.limit, query.offset) }),
  );

  routes.add(
    router,
    {
      method: 'get',
      path: '/api/v1/exchange-jobs/{id}',
      operationId: 'getExchangeJob',
      summary: 'One exchange job: status, breakdown, total and callback state (owner or admin)',
      tags: ['exchange jobs'],
      auth: 'user',
      keyScope: 'jobs',
      params: jobIdParams,
      responses: {
        200: { description: 'The job', schema: exchangeJobView },
        401: problem('No token'),
        404: problem('No such job, or not yours'),
      },
    },
    async ({ params, req }) => ({
      body: await service.get(req.user!, params.id),
      headers: { 'cache-control': 'no-store' },
    }),
  );

  routes.add(
    router,
    {
      method: 'post',
      path: '/api/exchange_async',
      operationId: 'compatExchangeAsync',
      summary: 'Alias of POST /api/v1/exchange-jobs for clients of the async exchange service',
      tags: ['compat'],
      auth: 'user',
      keyScope: 'jobs',
      body: exchangeJobBody,
      invalidStatus: 400,
      responses: {
        200: { description: 'Accepted (or the same job again)', schema: exchangeJobCompatAccepted },
        400: problem('Invalid body'),
        401: problem('No token'),
        409: problem('request_id already used with another body'),
      },
    },
    async ({ body, req }) => {
      try {
        const accepted = await service.submit(req.user!, body);
        return { status: 200, body: { status: 'ok', job_id: accepted.jobId } };
      } catch (err) {
        // the async exchange service answered 400 to any bad payload, including an unknown currency
        if (err instanceof AppError && err.status === 422) {
          throw new AppError(400, err.code, err.message, err.errors);
        }
        throw err;
      }
    },
  );
}
