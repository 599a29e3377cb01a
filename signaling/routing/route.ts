/**
 * Routing's neutral request and typed decision (common/route.ts): what every router here is asked
 * and answers. Routers import these from here; an edge's protocol side imports them from common.
 */
export type * from '../../common/route.ts';
