"""The API's docs page: the generated OpenAPI document rendered on the server, with a quick start; no script
and nothing from a CDN, so it works on an intranet."""
from flask import Blueprint, current_app, render_template, url_for

bp = Blueprint('api_docs', __name__, template_folder='templates')

DESCRIPTION = ('The JSON API of Chuangzheng 创争: everything the web UI can do, over HTTP, under the same '
               'permission rules. Authenticate with a personal API token (`Authorization: Bearer <token>`), '
               'created on the page /account/tokens. Every failure answers '
               '`{"error": code, "message": text, "details": {...}}`.')


def _resolve(spec, node):
    """Follow a $ref to its component."""
    while isinstance(node, dict) and '$ref' in node:
        kind, name = node['$ref'].split('/')[-2:]
        node = spec['components'][kind][name]
    return node


def _ref_name(node):
    return node['$ref'].rsplit('/', 1)[-1] if isinstance(node, dict) and '$ref' in node else None


def operations(spec):
    """[(tag, description, [operation, …]), …] in document order."""
    tags = {t['name']: t.get('description', '') for t in spec.get('tags', [])}
    grouped = {name: [] for name in tags}
    for path, item in spec['paths'].items():
        for method, op in item.items():
            if method not in ('get', 'post', 'put', 'patch', 'delete'):
                continue
            params = [_resolve(spec, p) for p in item.get('parameters', []) + op.get('parameters', [])]
            body = op.get('requestBody')
            grouped.setdefault((op.get('tags') or ['other'])[0], []).append({
                'method': method.upper(), 'path': path, 'summary': op.get('summary', ''),
                'description': op.get('description', ''), 'parameters': params,
                'body': {ct: _ref_name(c.get('schema')) or c.get('schema') for ct, c in body['content'].items()}
                if body else None,
                'responses': {code: _response(spec, r) for code, r in op.get('responses', {}).items()},
                'anchor': f'{method}-{path}'.replace('/', '-').replace('{', '').replace('}', '')})
    return [(name, tags.get(name, ''), ops) for name, ops in grouped.items() if ops]


def _response(spec, response):
    response = _resolve(spec, response)
    content = response.get('content', {})
    schemas = {ct: _ref_name(c.get('schema')) or c.get('schema', {}).get('type') for ct, c in content.items()}
    return {'description': response.get('description', ''), 'schemas': schemas}


@bp.get('/api/v1/docs')
def page():
    api = current_app.extensions['flask-smorest']['apis']['']['ext_obj']
    spec = api.spec.to_dict()
    return render_template('api_docs.html', spec=spec, groups=operations(spec),
                           schemas=spec['components'].get('schemas', {}), resolve=lambda n: _resolve(spec, n),
                           ref_name=_ref_name, spec_url=url_for('api-docs.openapi_json'),
                           tokens_url=url_for('account.tokens'))
