<?php
/**
 * The two hooks: the order-received page and the customer's order e-mails.
 */

defined( 'ABSPATH' ) || exit;

/**
 * woocommerce_thankyou (priority 20): the service's blocks, else the meta the service wrote.
 *
 * Runs on every view of the page (refresh, revisit); it has no side effects of its own.
 *
 * @param int $order_id The order's id.
 */
function aftersale_kit_thankyou( $order_id ) {
	try {
		$order = wc_get_order( $order_id );
		if ( ! $order ) {
			return;
		}
		$html = null;
		try {
			$html = aftersale_kit_fetch_html( $order );
		} catch ( \Throwable $error ) {
			aftersale_kit_log( 'fetching blocks failed: ' . $error->getMessage() );
		}
		if ( null === $html || '' === trim( $html ) ) {
			$html = (string) $order->get_meta( '_aftersale_kit_html', true );
		}
		$html = aftersale_kit_clean_html( $html );
		if ( '' === trim( $html ) ) {
			return;
		}
		echo '<section class="aftersale-kit">' . $html . '</section>'; // phpcs:ignore WordPress.Security.EscapeOutput -- passed through wp_kses_post.
		if ( false !== strpos( $html, 'data-ak-block="coupon"' ) ) {
			aftersale_kit_enqueue_blocks_script();
		}
	} catch ( \Throwable $error ) {
		aftersale_kit_log( 'thank-you content failed: ' . $error->getMessage() );
	}
}

/**
 * The blocks' behaviour as a static script in the footer (no inline code; its data is in the
 * blocks' data- attributes). Enqueued from the thank-you hook, after wp_head: WordPress prints
 * footer scripts enqueued that late (in_footer = true).
 */
function aftersale_kit_enqueue_blocks_script() {
	wp_enqueue_script(
		'aftersale-kit-blocks',
		plugins_url( 'assets/aftersale-kit-blocks.js', AFTERSALE_KIT_FILE ),
		array(),
		AFTERSALE_KIT_VERSION,
		true
	);
}

/**
 * The e-mail ids that get the content: customer e-mails only (filter aftersale_kit_email_ids).
 *
 * @return string[]
 */
function aftersale_kit_email_ids() {
	$ids = array( 'customer_processing_order', 'customer_completed_order' );
	return function_exists( 'apply_filters' ) ? (array) apply_filters( 'aftersale_kit_email_ids', $ids ) : $ids;
}

/**
 * woocommerce_email_after_order_table($order, $sent_to_admin, $plain_text, $email).
 *
 * @param WC_Order      $order         The order.
 * @param bool          $sent_to_admin Whether the e-mail goes to the shop.
 * @param bool          $plain_text    Plain-text e-mail.
 * @param WC_Email|null $email         The e-mail (its id says which one).
 */
function aftersale_kit_email_after_order_table( $order, $sent_to_admin = false, $plain_text = false, $email = null ) {
	try {
		if ( $sent_to_admin || ! is_object( $order ) || ! method_exists( $order, 'get_meta' ) ) {
			return;
		}
		$id = ( is_object( $email ) && isset( $email->id ) ) ? (string) $email->id : '';
		if ( ! in_array( $id, aftersale_kit_email_ids(), true ) ) {
			return;
		}
		if ( $plain_text ) {
			$text = (string) $order->get_meta( '_aftersale_kit_email_text', true );
			if ( '' === trim( $text ) ) {
				$text = (string) $order->get_meta( '_aftersale_kit_email_html', true );
			}
			$text = trim( wp_strip_all_tags( $text ) );
			if ( '' !== $text ) {
				echo "\n" . $text . "\n\n"; // phpcs:ignore WordPress.Security.EscapeOutput -- plain-text e-mail, tags stripped.
			}
			return;
		}
		$html = aftersale_kit_clean_html( (string) $order->get_meta( '_aftersale_kit_email_html', true ) );
		if ( '' !== trim( $html ) ) {
			echo '<div class="aftersale-kit" style="margin:0 0 24px">' . $html . '</div>'; // phpcs:ignore WordPress.Security.EscapeOutput -- passed through wp_kses_post.
		}
	} catch ( \Throwable $error ) {
		aftersale_kit_log( 'e-mail content failed: ' . $error->getMessage() );
	}
}
