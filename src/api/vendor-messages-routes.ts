// GET /api/vendor-messages: which vendor DataTransfer messages the gateway understands, and from which file.
import { Router } from 'express';
import type { VendorRegistry } from '../events/index.js';

export function vendorMessagesRouter(registry: VendorRegistry): Router {
  const router = Router();
  router.get('/', (_req, res) => {
    res.json({
      vendorMessages: registry.entries().map((m) => ({
        vendorId: m.vendorId,
        messageId: m.messageId,
        file: m.file,
        emits: { type: m.emits.type, fields: [...m.emits.fields.keys()], ...(m.emits.derive ? { derive: m.emits.derive } : {}) },
      })),
    });
  });
  return router;
}
