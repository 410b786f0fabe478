// Runs in a fresh project where only the packed tarball and `redis` are installed.
import { connect, createKeyspace, InvalidArgumentError } from '@redis-patterns/connection';

const redis = await connect({ url: process.env.REDIS_URL });
const key = createKeyspace('smoke:').key('connection', 'k');
await redis.send(['SET', key, 'ok', 'PX', '10000'], { key });
const value = await redis.bounded(redis.client.get(key));
await redis.close();
if (value !== 'ok') throw new Error(`GET returned ${value}`);
if (!(new InvalidArgumentError('x', 'y') instanceof Error)) throw new Error('errors are not Errors');
console.log('connect, SET, GET, close');
