<?php
/**
 * Runs the companion plugin for one scenario (JSON file in argv[1]) and prints what the hook
 * echoed; a JSON report (log, HTTP calls, elapsed seconds) goes to the file in argv[2].
 *
 * Scenario: {"plugin": path, "home": url, "options": {...}, "order": {"id", "order_key", "meta"},
 *            "run": "thankyou" | "email" | "token",
 *            "email": {"id", "sent_to_admin", "plain_text"}, "token": {shop, order_id, order_key, secret}}
 * Any PHP notice, warning or error is printed to stderr with the prefix "HARNESS-PHP-ERROR".
 */

error_reporting( E_ALL );
set_error_handler(
	static function ( $severity, $message, $file, $line ) {
		if ( ! ( error_reporting() & $severity ) ) {
			return false; // silenced with @ (the stand-in's file_get_contents), as WP_Http is quiet.
		}
		fwrite( STDERR, "HARNESS-PHP-ERROR $severity: $message at $file:$line\n" );
		return true;
	}
);

require __DIR__ . '/wordpress.php';

$scenario = json_decode( file_get_contents( $argv[1] ), true );
$GLOBALS['harness']['home']    = $scenario['home'] ?? 'https://shop.example';
$GLOBALS['harness']['options'] = $scenario['options'] ?? array();
$GLOBALS['harness']['users']       = $scenario['users'] ?? array();
$GLOBALS['harness']['by_customer'] = $scenario['by_customer'] ?? array();
if ( isset( $scenario['order'] ) ) {
	$GLOBALS['harness']['orders'][ (string) $scenario['order']['id'] ] = $scenario['order'];
}

require $scenario['plugin'];

$started = microtime( true );
switch ( $scenario['run'] ) {
	case 'thankyou':
		do_action( 'woocommerce_thankyou', $scenario['order']['id'] );
		break;
	case 'email':
		$email     = new stdClass();
		$email->id = $scenario['email']['id'];
		do_action(
			'woocommerce_email_after_order_table',
			wc_get_order( $scenario['order']['id'] ),
			(bool) $scenario['email']['sent_to_admin'],
			(bool) $scenario['email']['plain_text'],
			$email
		);
		break;
	case 'page':
		// The order-received page as a theme prints it: the hook's output in the content, the
		// footer scripts before </body>; extra head tags from the scenario ("head").
		echo "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">" . ( $scenario['head'] ?? '' ) . "</head><body>\n";
		echo "<h1>Order received</h1>\n";
		do_action( 'woocommerce_thankyou', $scenario['order']['id'] );
		echo "\n";
		wp_print_footer_scripts();
		echo "</body></html>\n";
		break;
	case 'privacy_export':
	case 'privacy_erase':
		// As WordPress's privacy tools do: the registered callbacks, in order, page 1.
		$export     = 'privacy_export' === $scenario['run'];
		$registered = apply_filters( $export ? 'wp_privacy_personal_data_exporters' : 'wp_privacy_personal_data_erasers', array() );
		$response   = call_user_func( $registered['aftersale-kit']['callback'], $scenario['email'], 1 );
		echo json_encode(
			array(
				'keys'     => array_keys( $registered ),
				'name'     => $registered['aftersale-kit'][ $export ? 'exporter_friendly_name' : 'eraser_friendly_name' ],
				'response' => is_wp_error( $response )
					? array( 'wp_error' => $response->get_error_code(), 'message' => $response->get_error_message() )
					: $response,
			)
		);
		break;
	case 'token':
		$t = $scenario['token'];
		echo aftersale_kit_block_token( $t['shop'], $t['order_id'], $t['order_key'], $t['secret'] );
		break;
}
$report = array(
	'seconds' => microtime( true ) - $started,
	'log'     => $GLOBALS['harness']['log'],
	'http'    => $GLOBALS['harness']['http'],
	'scripts' => $GLOBALS['harness']['scripts'],
);
file_put_contents( $argv[2], json_encode( $report ) );
