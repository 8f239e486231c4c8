// Target purchase.thank-you.block.render: OrderConfirmationApi gives the order's GID.
import {extension} from '@shopify/ui-extensions/checkout';
import {mount} from './blocks.js';

export default extension('purchase.thank-you.block.render', (root, api) => {
  const confirmation = api.orderConfirmation.current;
  mount(root, api, confirmation && confirmation.order && confirmation.order.id);
});
