// Target customer-account.order-status.block.render: OrderStatusApi gives the order.
import {extension} from '@shopify/ui-extensions/customer-account';
import {mount} from './blocks.js';

export default extension('customer-account.order-status.block.render', (root, api) => {
  const order = api.order.current;
  if (order) {
    mount(root, api, order.id);
    return;
  }
  const stop = api.order.subscribe((next) => {
    if (!next) return;
    stop();
    mount(root, api, next.id);
  });
});
