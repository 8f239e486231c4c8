<?php
/**
 * WordPress's privacy tools (Tools > Export/Erase Personal Data) include what the aftersale-kit
 * service holds about a customer: the exporter and the eraser ask the service.
 *
 * Request: POST <service>/v1/privacy/woocommerce/<shop>/<export|erase>, JSON body
 * {"email", "customer_id", "order_ids"}, signed with the block secret:
 *   X-Aftersale-Kit-Timestamp: time()
 *   X-Aftersale-Kit-Signature: hash_hmac('sha256', "$ts|$shop|$action|" . $body, $secret)
 *
 * When the service cannot be asked, the callbacks return a WP_Error: WordPress then reports the
 * request as failed instead of "nothing found" (wp-admin/includes/ajax-actions.php,
 * wp_ajax_wp_privacy_export_personal_data and wp_ajax_wp_privacy_erase_personal_data:
 * https://github.com/WordPress/WordPress/blob/master/wp-admin/includes/ajax-actions.php).
 * Hooks: https://developer.wordpress.org/plugins/privacy/adding-the-personal-data-exporter-to-your-plugin/
 */

defined( 'ABSPATH' ) || exit;

/**
 * Registers the exporter (filter priority 10, after WooCommerce's own at 5). The eraser is
 * registered at priority 5, before WooCommerce's erasers (10), so it still finds the customer's
 * orders by e-mail before WooCommerce anonymises them (WC_Abstract_Privacy:
 * https://github.com/woocommerce/woocommerce/blob/trunk/plugins/woocommerce/includes/abstracts/abstract-wc-privacy.php).
 */
function aftersale_kit_register_exporter( $exporters ) {
	$exporters['aftersale-kit'] = array(
		'exporter_friendly_name' => 'aftersale-kit',
		'callback'               => 'aftersale_kit_privacy_export',
	);
	return $exporters;
}

function aftersale_kit_register_eraser( $erasers ) {
	$erasers['aftersale-kit'] = array(
		'eraser_friendly_name' => 'aftersale-kit',
		'callback'             => 'aftersale_kit_privacy_erase',
	);
	return $erasers;
}

/**
 * The customer as the service needs it: the address, the WordPress user id of that address
 * (0 for guests) and the ids of the orders placed with it.
 */
function aftersale_kit_privacy_subject( $email_address ) {
	$user  = function_exists( 'get_user_by' ) ? get_user_by( 'email', $email_address ) : false;
	$ids   = array();
	$found = wc_get_orders(
		array(
			'customer' => $email_address,
			'limit'    => -1,
			'return'   => 'ids',
		)
	);
	foreach ( (array) $found as $order ) {
		$ids[] = (string) ( is_object( $order ) ? $order->get_id() : $order );
	}
	if ( $user && isset( $user->ID ) ) {
		$mine = wc_get_orders(
			array(
				'customer_id' => (int) $user->ID,
				'limit'       => -1,
				'return'      => 'ids',
			)
		);
		foreach ( (array) $mine as $order ) {
			$ids[] = (string) ( is_object( $order ) ? $order->get_id() : $order );
		}
	}
	return array(
		'email'       => (string) $email_address,
		'customer_id' => ( $user && isset( $user->ID ) ) ? (string) $user->ID : null,
		'order_ids'   => array_values( array_unique( $ids ) ),
	);
}

/**
 * Asks the service; returns the decoded answer or a WP_Error.
 *
 * @param string $action export or erase.
 * @param string $email_address The address the privacy request is for.
 * @return array|WP_Error
 */
function aftersale_kit_privacy_call( $action, $email_address ) {
	$base   = rtrim( trim( (string) aftersale_kit_setting( 'service_url' ) ), '/' );
	$secret = (string) aftersale_kit_setting( 'block_secret' );
	if ( '' === $base || '' === $secret ) {
		return new WP_Error( 'aftersale_kit_not_configured', 'aftersale-kit: the service URL or secret is not set' );
	}
	$shop      = aftersale_kit_shop();
	$body      = wp_json_encode( aftersale_kit_privacy_subject( $email_address ) );
	$timestamp = (string) time();
	$response  = wp_remote_post(
		$base . '/v1/privacy/woocommerce/' . rawurlencode( $shop ) . '/' . $action,
		array(
			'timeout'     => 15,
			'redirection' => 0,
			'headers'     => array(
				'Content-Type'              => 'application/json',
				'X-Aftersale-Kit-Timestamp' => $timestamp,
				'X-Aftersale-Kit-Signature' => hash_hmac( 'sha256', $timestamp . '|' . $shop . '|' . $action . '|' . $body, $secret ),
			),
			'body'        => $body,
		)
	);
	if ( is_wp_error( $response ) ) {
		return new WP_Error( 'aftersale_kit_unreachable', 'aftersale-kit: the service is unreachable: ' . $response->get_error_message() );
	}
	$status  = (int) wp_remote_retrieve_response_code( $response );
	$payload = json_decode( (string) wp_remote_retrieve_body( $response ), true );
	if ( 200 !== $status || ! is_array( $payload ) || 'ok' !== ( $payload['status'] ?? '' ) ) {
		$reason = is_array( $payload ) && isset( $payload['error'] ) ? (string) $payload['error'] : 'no details';
		return new WP_Error( 'aftersale_kit_refused', 'aftersale-kit: the service answered ' . $status . ': ' . $reason );
	}
	return $payload;
}

/** One export item: WordPress's name/value pairs. */
function aftersale_kit_privacy_item( $group_id, $group_label, $item_id, array $pairs ) {
	$data = array();
	foreach ( $pairs as $name => $value ) {
		if ( null !== $value && '' !== $value ) {
			$data[] = array(
				'name'  => $name,
				'value' => (string) $value,
			);
		}
	}
	return array(
		'group_id'    => $group_id,
		'group_label' => $group_label,
		'item_id'     => $item_id,
		'data'        => $data,
	);
}

/**
 * The exporter: coupons, bookings, decisions and stored webhooks, one page (all at once).
 *
 * @param string $email_address The address.
 * @param int    $page          Starts at 1; one page holds everything.
 * @return array|WP_Error
 */
function aftersale_kit_privacy_export( $email_address, $page = 1 ) {
	$answer = aftersale_kit_privacy_call( 'export', $email_address );
	if ( is_wp_error( $answer ) ) {
		return $answer;
	}
	$export = $answer['export'];
	$items  = array();
	foreach ( $export['coupons'] ?? array() as $i => $c ) {
		$items[] = aftersale_kit_privacy_item(
			'aftersale-kit-coupons',
			'aftersale-kit: coupons',
			'aftersale-kit-coupon-' . $i,
			array(
				'Code'     => $c['code'],
				'Order'    => $c['order_id'],
				'Campaign' => $c['campaign_id'],
				'Status'   => $c['status'],
				'Created'  => $c['created_at'],
			)
		);
	}
	foreach ( $export['ledger'] ?? array() as $i => $e ) {
		$items[] = aftersale_kit_privacy_item(
			'aftersale-kit-bookings',
			'aftersale-kit: bookings',
			'aftersale-kit-booking-' . $i,
			array(
				'Order'    => $e['order_id'],
				'Campaign' => $e['campaign_id'],
				'Entry'    => $e['entry'],
				'Cost'     => $e['cost'] . ' ' . $e['currency'],
				'Booked'   => $e['booked_at'],
			)
		);
	}
	foreach ( $export['decisions'] ?? array() as $i => $d ) {
		$items[] = aftersale_kit_privacy_item(
			'aftersale-kit-decisions',
			'aftersale-kit: decisions',
			'aftersale-kit-decision-' . $i,
			array(
				'Order'    => $d['order_id'],
				'Event'    => $d['event_kind'],
				'Decision' => wp_json_encode( $d['decision'] ),
			)
		);
	}
	foreach ( $export['events'] ?? array() as $i => $e ) {
		$items[] = aftersale_kit_privacy_item(
			'aftersale-kit-webhooks',
			'aftersale-kit: webhooks received',
			'aftersale-kit-webhook-' . $i,
			array(
				'Topic'    => $e['topic'],
				'Order'    => $e['order_id'],
				'Received' => $e['received_at'],
				'Body'     => $e['body'],
			)
		);
	}
	return array(
		'data' => $items,
		'done' => true,
	);
}

/**
 * The eraser: the service erases the customer's personal data once; bookings and coupon codes
 * stay, without the person, for the shop's budgets and books.
 *
 * @param string $email_address The address.
 * @param int    $page          Starts at 1; one page does everything.
 * @return array|WP_Error
 */
function aftersale_kit_privacy_erase( $email_address, $page = 1 ) {
	$answer = aftersale_kit_privacy_call( 'erase', $email_address );
	if ( is_wp_error( $answer ) ) {
		return $answer;
	}
	$erased   = array_sum( array_map( 'intval', (array) ( $answer['erased'] ?? array() ) ) );
	$retained = (int) ( $answer['retained']['orders'] ?? 0 ) > 0;
	$messages = array();
	if ( $retained ) {
		$messages[] = 'aftersale-kit keeps coupon amounts and bookings of this customer\'s orders, without personal data, for the shop\'s budgets and books.';
	}
	return array(
		'items_removed'  => $erased > 0,
		'items_retained' => $retained,
		'messages'       => $messages,
		'done'           => true,
	);
}
