<?php
// The differential tests' reference: PHP's own parse_str, http_build_query, filter_var and
// json_encode, and Laravel 12's request pipeline written from its source (TrimStrings and
// ConvertEmptyStringsToNull over TransformsRequest, Str::trim, the paginator's page resolver
// and AbstractPaginator::url). One JSON request per line on stdin, one JSON answer per line
// on stdout; bytes travel as hex, so invalid UTF-8 and NUL survive the trip.
error_reporting(0);

const INVISIBLE_CHARACTERS = '\x{0009}\x{0020}\x{00A0}\x{00AD}\x{034F}\x{061C}\x{115F}\x{1160}\x{17B4}\x{17B5}\x{180E}\x{2000}\x{2001}\x{2002}\x{2003}\x{2004}\x{2005}\x{2006}\x{2007}\x{2008}\x{2009}\x{200A}\x{200B}\x{200C}\x{200D}\x{200E}\x{200F}\x{202F}\x{205F}\x{2060}\x{2061}\x{2062}\x{2063}\x{2064}\x{2065}\x{206A}\x{206B}\x{206C}\x{206D}\x{206E}\x{206F}\x{3000}\x{2800}\x{3164}\x{FEFF}\x{FFA0}\x{1D159}\x{1D173}\x{1D174}\x{1D175}\x{1D176}\x{1D177}\x{1D178}\x{1D179}\x{1D17A}\x{E0020}';
const TRIM_EXCEPT = ['current_password', 'password', 'password_confirmation'];

function dump($value)
{
    if (is_array($value)) {
        $items = [];
        foreach ($value as $key => $item) {
            $items[] = [is_int($key) ? 'i' : 's', bin2hex((string) $key), dump($item)];
        }
        return ['a' => $items];
    }
    return $value === null ? ['n' => null] : ['s' => bin2hex($value)];
}

function str_trim($value)
{
    $trimDefaultCharacters = " \n\r\t\v\0";
    $class = '[\s'.INVISIBLE_CHARACTERS.$trimDefaultCharacters.']';
    return preg_replace('~^'.$class.'+|'.$class.'+$~u', '', $value) ?? trim($value);
}

// TransformsRequest::cleanArray with a transform per middleware.
function clean_array(array $data, callable $transform, $keyPrefix = '')
{
    foreach ($data as $key => $value) {
        $data[$key] = is_array($value)
            ? clean_array($value, $transform, $keyPrefix.$key.'.')
            : $transform($keyPrefix.$key, $value);
    }
    return $data;
}

function laravel_query($raw)
{
    parse_str($raw, $query);
    $query = clean_array($query, function ($key, $value) {
        return in_array($key, TRIM_EXCEPT, true) || ! is_string($value) ? $value : str_trim($value);
    });
    return clean_array($query, fn ($key, $value) => $value === '' ? null : $value);
}

function page_url_query(array $query, $page)
{
    $kept = [];
    foreach ($query as $key => $value) {
        if ($key !== 'page') {
            $kept[$key] = $value;
        }
    }
    return http_build_query(array_merge($kept, ['page' => $page]), '', '&', PHP_QUERY_RFC3986);
}

while (($line = fgets(STDIN)) !== false) {
    $request = json_decode($line, true);
    $input = hex2bin($request['v']);
    switch ($request['op']) {
        case 'parse_str':
            parse_str($input, $parsed);
            $answer = dump($parsed);
            break;
        case 'http_build_query':
            parse_str($input, $parsed);
            $answer = http_build_query($parsed, '', '&', PHP_QUERY_RFC3986);
            break;
        case 'filter_int':
            $number = filter_var($input, FILTER_VALIDATE_INT);
            $answer = $number === false ? null : (string) $number;
            break;
        case 'str_trim':
            $answer = bin2hex(str_trim($input));
            break;
        case 'json_encode':
            $answer = json_encode([$input, 'k/'.$input => true]);
            break;
        case 'reencode':
            // A body as Laravel would write it: the contract keeps `42.0` for floats.
            $answer = json_encode(json_decode($input), JSON_PRESERVE_ZERO_FRACTION);
            break;
        case 'laravel':
            $query = laravel_query($input);
            $page = $query['page'] ?? null;
            $resolved = filter_var($page, FILTER_VALIDATE_INT) !== false && (int) $page >= 1
                ? (int) $page : 1;
            $answer = ['query' => dump($query), 'page' => (string) $resolved,
                       'url_query' => page_url_query($query, 2)];
            break;
        case 'cors_path':
            // HandleCors::hasMatchingPath with config/cors.php's default paths: Request::is()
            // on decodedPath(), Laravel 12's Str::is (the `s` flag since laravel/framework#51196).
            $path = trim($input, '/');
            $decoded = rawurldecode($path === '' ? '/' : $path);
            $answer = false;
            foreach (['api/*', 'sanctum/csrf-cookie'] as $pattern) {
                $regex = '#^'.str_replace('\\*', '.*', preg_quote($pattern, '#')).'\\z#su';
                if ($pattern === $decoded || preg_match($regex, $decoded) === 1) {
                    $answer = true;
                }
            }
            break;
        default:
            $answer = null;
    }
    echo json_encode(['answer' => $answer]), "\n";
}
