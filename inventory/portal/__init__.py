"""The operator web portal: server-rendered pages over the inventory services and selectors.

Views parse (forms, filters), call one service or selector, and render; there is no business
logic here. Access follows selectors.device_queryset / request_queryset, so a member of one
organization gets a 404 for another organization's objects.
"""
