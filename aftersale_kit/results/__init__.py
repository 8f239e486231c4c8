"""Results: what the campaigns brought, from the store's records (``aftersale-kit report``, the
operator dashboard, the metrics).

``figures``: the report's figures (the contract between the computations and every output);
``attribution``: redemptions joined to campaigns, net of refunds, leaks; ``experiments``: A/B and
holdout comparisons with confidence intervals; ``care``: care cost per customer against margin.
Nothing here does I/O at import.
"""
