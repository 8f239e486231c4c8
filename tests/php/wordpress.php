<?php
/**
 * Minimal stand-ins for the WordPress and WooCommerce functions the companion plugin calls, so the
 * plugin runs unmodified under the PHP CLI. wp_remote_get does real HTTP (PHP streams).
 */

define( 'ABSPATH', __DIR__ . '/' );

$GLOBALS['harness'] = array(
	'actions' => array(),
	'filters' => array(),
	'options' => array(),
	'home'    => 'https://shop.example',
	'orders'  => array(),
	'log'     => array(),
	'http'    => array(),
	'users'   => array(),
	'by_customer' => array(),
	'scripts' => array(),
);

function add_action( $hook, $callback, $priority = 10, $accepted_args = 1 ) {
	$GLOBALS['harness']['actions'][ $hook ][ $priority ][] = array( $callback, $accepted_args );
	return true;
}

function add_filter( $hook, $callback, $priority = 10, $accepted_args = 1 ) {
	$GLOBALS['harness']['filters'][ $hook ][ $priority ][] = array( $callback, $accepted_args );
	return true;
}

function do_action( $hook, ...$args ) {
	$by_priority = $GLOBALS['harness']['actions'][ $hook ] ?? array();
	ksort( $by_priority );
	foreach ( $by_priority as $callbacks ) {
		foreach ( $callbacks as list( $callback, $accepted ) ) {
			call_user_func_array( $callback, array_slice( $args, 0, $accepted ) );
		}
	}
}

function apply_filters( $hook, $value, ...$args ) {
	$by_priority = $GLOBALS['harness']['filters'][ $hook ] ?? array();
	ksort( $by_priority );
	foreach ( $by_priority as $callbacks ) {
		foreach ( $callbacks as list( $callback, $accepted ) ) {
			$value = call_user_func_array( $callback, array_slice( array_merge( array( $value ), $args ), 0, $accepted ) );
		}
	}
	return $value;
}

function get_option( $name, $default = false ) {
	return array_key_exists( $name, $GLOBALS['harness']['options'] ) ? $GLOBALS['harness']['options'][ $name ] : $default;
}

/** Like WordPress: the URL of a file in the plugin's folder. */
function plugins_url( $path = '', $plugin = '' ) {
	return home_url( 'wp-content/plugins/' . basename( dirname( $plugin ) ) . '/' . ltrim( $path, '/' ) );
}

function wp_enqueue_script( $handle, $src = '', $deps = array(), $ver = false, $in_footer = false ) {
	$GLOBALS['harness']['scripts'][ $handle ] = array(
		'src'       => $src,
		'deps'      => $deps,
		'ver'       => $ver,
		'in_footer' => $in_footer,
	);
}

/** As WP_Scripts prints an enqueued script: <script src="...?ver=..." id="handle-js">. */
function wp_print_footer_scripts() {
	foreach ( $GLOBALS['harness']['scripts'] as $handle => $script ) {
		$src = $script['src'] . ( $script['ver'] ? '?ver=' . rawurlencode( $script['ver'] ) : '' );
		echo '<script src="' . htmlspecialchars( $src, ENT_QUOTES ) . '" id="' . htmlspecialchars( $handle, ENT_QUOTES ) . "-js\"></script>\n";
	}
}

function home_url( $path = '' ) {
	return rtrim( $GLOBALS['harness']['home'], '/' ) . '/' . ltrim( $path, '/' );
}

function wp_parse_url( $url, $component = -1 ) {
	return parse_url( $url, $component );
}

function esc_html( $text ) {
	return htmlspecialchars( (string) $text, ENT_QUOTES, 'UTF-8' );
}

/** Like WordPress: script/style elements go with their content, then every tag. */
function wp_strip_all_tags( $text, $remove_breaks = false ) {
	$text = preg_replace( '@<(script|style)[^>]*?>.*?</\\1>@si', '', (string) $text );
	$text = strip_tags( $text );
	if ( $remove_breaks ) {
		$text = preg_replace( '/[\r\n\t ]+/', ' ', $text );
	}
	return trim( $text );
}

/**
 * A reasonable subset of wp_kses_post: tags outside the post allow-list are dropped (their text
 * stays, as in WordPress), on* event attributes removed, javascript: URLs neutralised.
 */
function wp_kses_post( $html ) {
	$allowed = array( 'a', 'abbr', 'b', 'blockquote', 'br', 'button', 'code', 'dd', 'del', 'div', 'dl', 'dt', 'em', 'figcaption', 'figure', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'hr', 'i', 'img', 'li', 'mark', 'ol', 'p', 'pre', 's', 'section', 'small', 'span', 'strong', 'sub', 'sup', 'table', 'tbody', 'td', 'tfoot', 'th', 'thead', 'time', 'tr', 'u', 'ul', 'video', 'source', 'article', 'aside', 'header', 'footer', 'address', 'label', 'details', 'summary' );
	return preg_replace_callback(
		'#<(/?)([a-zA-Z][a-zA-Z0-9-]*)([^>]*)>#',
		static function ( $m ) use ( $allowed ) {
			if ( ! in_array( strtolower( $m[2] ), $allowed, true ) ) {
				return '';
			}
			$attrs = preg_replace( '#\s+on[a-z]+\s*=\s*("[^"]*"|\'[^\']*\'|[^\s>]+)#i', '', $m[3] );
			$attrs = preg_replace( '#((?:href|src)\s*=\s*["\']?)\s*javascript:#i', '$1#', $attrs );
			return '<' . $m[1] . $m[2] . $attrs . '>';
		},
		(string) $html
	);
}

class WP_Error {
	private $code;
	private $message;
	public function __construct( $code = '', $message = '' ) {
		$this->code    = $code;
		$this->message = $message;
	}
	public function get_error_message() {
		return $this->message;
	}
	public function get_error_code() {
		return $this->code;
	}
}

function is_wp_error( $thing ) {
	return $thing instanceof WP_Error;
}

/** Real HTTP through PHP streams; errors come back as WP_Error, like WordPress. */
function wp_remote_get( $url, $args = array() ) {
	return wp_remote_request( $url, array_merge( $args, array( 'method' => 'GET' ) ) );
}

function wp_remote_post( $url, $args = array() ) {
	return wp_remote_request( $url, array_merge( $args, array( 'method' => 'POST' ) ) );
}

function wp_json_encode( $data, $options = 0, $depth = 512 ) {
	return json_encode( $data, $options, $depth );
}

/** Users by e-mail address: the scenario's "users" ({"ada@example.com": 5}). */
function get_user_by( $field, $value ) {
	$id = 'email' === $field ? ( $GLOBALS['harness']['users'][ strtolower( $value ) ] ?? null ) : null;
	if ( null === $id ) {
		return false;
	}
	$user     = new stdClass();
	$user->ID = (int) $id;
	return $user;
}

/**
 * The subset of wc_get_orders the plugin uses: 'customer' (billing e-mail) or 'customer_id',
 * 'return' => 'ids'; answers from the scenario's "by_customer" ({"ada@example.com": [12],
 * "user:5": [12, 13]}).
 */
function wc_get_orders( $args ) {
	$by  = $GLOBALS['harness']['by_customer'];
	$key = isset( $args['customer_id'] ) ? 'user:' . $args['customer_id'] : strtolower( (string) ( $args['customer'] ?? '' ) );
	return $by[ $key ] ?? array();
}

function wp_remote_request( $url, $args = array() ) {
	$timeout = (float) ( $args['timeout'] ?? 5 );
	$headers = '';
	foreach ( $args['headers'] ?? array() as $name => $value ) {
		$headers .= "$name: $value\r\n";
	}
	$context = stream_context_create(
		array(
			'http' => array(
				'method'          => $args['method'] ?? 'GET',
				'content'         => (string) ( $args['body'] ?? '' ),
				'timeout'         => $timeout,
				'header'          => $headers,
				'ignore_errors'   => true,
				'follow_location' => ( $args['redirection'] ?? 5 ) > 0 ? 1 : 0,
			),
		)
	);
	$previous = ini_set( 'default_socket_timeout', (string) max( 1, (int) ceil( $timeout ) ) );
	$started  = microtime( true );
	$body     = @file_get_contents( $url, false, $context ); // phpcs:ignore -- stand-in for WP_Http.
	ini_set( 'default_socket_timeout', $previous );
	$GLOBALS['harness']['http'][] = array( 'url' => $url, 'seconds' => microtime( true ) - $started );
	if ( false === $body || empty( $http_response_header ) ) {
		$error = error_get_last();
		return new WP_Error( 'http_request_failed', $error['message'] ?? 'request failed' );
	}
	preg_match( '#^HTTP/\S+\s+(\d{3})#', $http_response_header[0], $m );
	return array(
		'response' => array( 'code' => (int) ( $m[1] ?? 0 ) ),
		'body'     => $body,
	);
}

function wp_remote_retrieve_response_code( $response ) {
	return is_array( $response ) ? $response['response']['code'] : '';
}

function wp_remote_retrieve_body( $response ) {
	return is_array( $response ) ? $response['body'] : '';
}

class WC_Order {
	private $data;
	public function __construct( array $data ) {
		$this->data = $data;
	}
	public function get_id() {
		return (int) $this->data['id'];
	}
	public function get_order_key() {
		return (string) $this->data['order_key'];
	}
	public function get_meta( $key = '', $single = true ) {
		return $this->data['meta'][ $key ] ?? '';
	}
}

function wc_get_order( $order_id ) {
	$data = $GLOBALS['harness']['orders'][ (string) $order_id ] ?? null;
	return $data ? new WC_Order( $data ) : false;
}

class Harness_Logger {
	public function warning( $message, $context = array() ) {
		$GLOBALS['harness']['log'][] = $message;
	}
}

function wc_get_logger() {
	return new Harness_Logger();
}
