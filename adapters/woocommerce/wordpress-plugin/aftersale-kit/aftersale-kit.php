<?php
/**
 * Plugin Name:          aftersale-kit
 * Description:          Shows aftersale-kit content (coupon, contact person, shipping, ...) on the order-received page and in the customer's order e-mails.
 * Version:              0.1.0
 * Requires PHP:         7.4
 * Requires at least:    6.0
 * WC requires at least: 7.0
 * License:              MIT
 *
 * Settings (a constant in wp-config.php wins over the option of the same name in lower case):
 *   AFTERSALE_KIT_SERVICE_URL   base URL of the aftersale-kit service, e.g. https://aftersale.example.com
 *   AFTERSALE_KIT_BLOCK_SECRET  the shop's webhook secret in the service's shop file (signs the page token)
 *   AFTERSALE_KIT_TIMEOUT       seconds to wait for the service on the thank-you page (default 2)
 *
 * The blocks' behaviour (the coupon's copy button and countdown) is the static file
 * assets/aftersale-kit-blocks.js, enqueued on the order-received page when a block needs it: the
 * service's inline scripts are stripped, nothing inline is printed.
 *
 * Nothing here may break a checkout: every failure is caught and the page falls back to the content
 * the service wrote into the order's meta data.
 */

defined( 'ABSPATH' ) || exit;

define( 'AFTERSALE_KIT_FILE', __FILE__ );
define( 'AFTERSALE_KIT_VERSION', '0.1.0' );

require_once __DIR__ . '/includes/settings.php';
require_once __DIR__ . '/includes/service.php';
require_once __DIR__ . '/includes/hooks.php';
require_once __DIR__ . '/includes/privacy.php';

// WooCommerce's HPOS (custom order tables): this plugin only uses $order->get_meta().
add_action(
	'before_woocommerce_init',
	static function () {
		if ( class_exists( '\Automattic\WooCommerce\Utilities\FeaturesUtil' ) ) {
			\Automattic\WooCommerce\Utilities\FeaturesUtil::declare_compatibility( 'custom_order_tables', __FILE__, true );
		}
	}
);

add_action( 'woocommerce_thankyou', 'aftersale_kit_thankyou', 20, 1 );
add_action( 'woocommerce_email_after_order_table', 'aftersale_kit_email_after_order_table', 20, 4 );
add_filter( 'wp_privacy_personal_data_exporters', 'aftersale_kit_register_exporter', 10 );
add_filter( 'wp_privacy_personal_data_erasers', 'aftersale_kit_register_eraser', 5 );
