<?php
/**
 * Settings: constants first, then options (wp option update aftersale_kit_service_url ...).
 */

defined( 'ABSPATH' ) || exit;

/**
 * A setting's value: the constant AFTERSALE_KIT_<NAME>, else the option aftersale_kit_<name>.
 *
 * @param string $name    service_url, block_secret or timeout.
 * @param mixed  $default Used when neither is set.
 * @return mixed
 */
function aftersale_kit_setting( $name, $default = '' ) {
	$constant = 'AFTERSALE_KIT_' . strtoupper( $name );
	if ( defined( $constant ) ) {
		return constant( $constant );
	}
	$value = get_option( 'aftersale_kit_' . $name, $default );
	return ( null === $value || '' === $value ) ? $default : $value;
}

/** Seconds to wait for the service: 2 by default, kept between 0.2 and 10. */
function aftersale_kit_timeout() {
	$timeout = (float) aftersale_kit_setting( 'timeout', 2 );
	if ( $timeout <= 0 ) {
		$timeout = 2.0;
	}
	return min( max( $timeout, 0.2 ), 10.0 );
}

/** The store's host name as the service knows it: host of home_url(), lower case, no www. */
function aftersale_kit_shop() {
	$host = strtolower( (string) wp_parse_url( home_url(), PHP_URL_HOST ) );
	return 0 === strpos( $host, 'www.' ) ? substr( $host, 4 ) : $host;
}
