<?php
/**
 * The service's block endpoint: GET <service>/v1/blocks/woocommerce/<shop>/<order id>?token=...
 */

defined( 'ABSPATH' ) || exit;

/**
 * The page token: hex HMAC-SHA256(key = block secret, msg = "{shop}|{order_id}|{order_key}").
 * The order key is only known to the customer's order-received page, so the token proves it.
 * The key is sent too (&key=): before the order's first webhook reached the service, the service
 * checks the token against it, then fetches the order and compares its key.
 */
function aftersale_kit_block_token( $shop, $order_id, $order_key, $secret ) {
	return hash_hmac( 'sha256', $shop . '|' . $order_id . '|' . $order_key, $secret );
}

/**
 * The blocks' HTML for an order from the service, or null when the service is not configured,
 * unreachable, slower than the timeout, still pending (202) or refuses (401/404).
 *
 * Nothing is cached: the answer carries a personal coupon code.
 *
 * @param WC_Order $order The order.
 * @return string|null
 */
function aftersale_kit_fetch_html( $order ) {
	$base   = rtrim( trim( (string) aftersale_kit_setting( 'service_url' ) ), '/' );
	$secret = (string) aftersale_kit_setting( 'block_secret' );
	$key    = (string) $order->get_order_key();
	if ( '' === $base || '' === $secret || '' === $key ) {
		return null;
	}
	$shop     = aftersale_kit_shop();
	$order_id = (string) $order->get_id();
	$url      = $base . '/v1/blocks/woocommerce/' . rawurlencode( $shop ) . '/' . rawurlencode( $order_id )
		. '?token=' . aftersale_kit_block_token( $shop, $order_id, $key, $secret )
		. '&key=' . rawurlencode( $key );

	$response = wp_remote_get(
		$url,
		array(
			'timeout'     => aftersale_kit_timeout(),
			'redirection' => 0,
			'headers'     => array( 'Accept' => 'application/json' ),
		)
	);
	if ( is_wp_error( $response ) ) {
		aftersale_kit_log( 'service unreachable: ' . $response->get_error_message() );
		return null;
	}
	$status = (int) wp_remote_retrieve_response_code( $response );
	if ( 200 !== $status ) {
		if ( 202 !== $status ) {
			aftersale_kit_log( 'service answered ' . $status );
		}
		return null;
	}
	$payload = json_decode( (string) wp_remote_retrieve_body( $response ), true );
	if ( ! is_array( $payload ) || ! isset( $payload['status'], $payload['blocks'] )
		|| 'ready' !== $payload['status'] || ! is_array( $payload['blocks'] ) ) {
		aftersale_kit_log( 'service answer is not a ready blocks payload' );
		return null;
	}
	$parts = array();
	foreach ( $payload['blocks'] as $block ) {
		if ( is_array( $block ) && isset( $block['html'] ) && is_string( $block['html'] ) ) {
			$parts[] = $block['html'];
		}
	}
	return implode( "\n", $parts );
}

/**
 * HTML safe to print into a page: script/style elements removed with their content (wp_kses_post
 * would drop the tags but print the JavaScript as text), then wp_kses_post.
 */
function aftersale_kit_clean_html( $html ) {
	$html = preg_replace( '#<(script|style)\b[^>]*>.*?</\1\s*>#is', '', (string) $html );
	$html = preg_replace( '#<(script|style)\b[^>]*>.*$#is', '', (string) $html );
	return wp_kses_post( (string) $html );
}

/** Logs through WooCommerce's logger when there is one; never throws. */
function aftersale_kit_log( $message ) {
	try {
		if ( function_exists( 'wc_get_logger' ) ) {
			wc_get_logger()->warning( $message, array( 'source' => 'aftersale-kit' ) );
		}
	} catch ( \Throwable $ignored ) {
		unset( $ignored );
	}
}
