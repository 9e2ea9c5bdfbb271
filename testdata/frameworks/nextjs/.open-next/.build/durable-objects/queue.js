import { DurableObject } from "cloudflare:workers";
export class DOQueueHandler extends DurableObject {}
